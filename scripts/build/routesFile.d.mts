export function planRoutesFile(
  file: string | undefined,
  root: string,
  functionDirs: readonly string[],
): { copies: Array<{ from: string; to: string }>; note?: string };
export function packageRoutesFile(file: string | undefined, root: string, functionDirs: readonly string[]): string[];
