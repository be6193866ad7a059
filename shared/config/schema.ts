const configSchema = { $id: 'config', type: 'object', properties: { a: { type: 'string', maxLength: 3 } } } as const;
export { configSchema };
