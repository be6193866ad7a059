/**
 * Entry of the warm-CPU child process (`node --expose-gc bench/results/build-<pid>.tmp/warmChild.cjs '<json options>'`): a
 * bundle of its own, because importing the webhook's entry builds an instance at module scope, which the harness
 * process has no use for.
 */
import { printResult } from './support';
import { measureWarmCpu } from './warmCpu';

measureWarmCpu(JSON.parse(process.argv[2] ?? '{}')).then(
  (result) => {
    printResult(result);
    process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
