import { runTopicsCommand } from './topics.ts';

process.exitCode = await runTopicsCommand({
  env: process.env,
  argv: process.argv.slice(2),
  print: (line) => console.log(line),
  printError: (line) => console.error(line),
});
