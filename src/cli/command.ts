// What every `lab` command offers the entry point (lab.ts), in its own file so that the commands and the entry
// point both import it and not each other.
import type { Args } from './args.ts';

export interface Command {
  summary: string;
  usage: string;
  /** Returns the JSON document (printed with --json) and a text rendering for people. */
  run(args: Args): Promise<{ json: unknown; text: string }>;
}
