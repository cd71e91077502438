// What every `lab` command offers the entry point (lab.ts), in its own file so that the commands and the entry
// point both import it and not each other.
import type { Args, FlagSpecs } from './args.ts';

export interface CommandResult {
  json: unknown;
  text: string;
  /** The process's exit code: 1 when the command ran but found problems (failed checks, say); 0 when absent. */
  exitCode?: number;
}

export interface Command {
  summary: string;
  usage: string;
  /**
   * The command's options. When given, lab.ts parses argv against them (the one shared parser, args.ts): unknown
   * options, missing values and out-of-range numbers are usage errors, and file and folder options are checked
   * on disk before run() is called. Commands without it get the loose parse.
   */
  flags?: FlagSpecs;
  /** The most positionals (subcommand included) the command takes; more is a usage error. Only with `flags`. */
  maxPositionals?: number;
  /** Returns the JSON document (printed with --json) and a text rendering for people. */
  run(args: Args): Promise<CommandResult>;
}
