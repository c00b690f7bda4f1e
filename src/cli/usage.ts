// Usage errors (DAEMON.md §1): one line on stderr, a pointer to --help, exit status 2.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function usageError(message: string): number {
  process.stderr.write(`atmd: ${message}\nRun 'atmd --help' for usage.\n`);
  return EXIT_USAGE;
}

export function unknownOption(option: string, command: string): number {
  return usageError(`unknown option '${option}' for '${command}'`);
}

export function extraArgument(arg: string, command: string): number {
  return usageError(`unexpected argument '${arg}' for '${command}'`);
}

/**
 * Splits a command's arguments against a set of known boolean flags and flags taking a value.
 * Returns the parsed flags or a usage-error exit code already reported.
 */
export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  positional: string[];
}

export function parseArgs(
  command: string,
  args: readonly string[],
  spec: { flags?: readonly string[]; values?: readonly string[]; maxPositional?: number },
): ParsedArgs | number {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("-") && arg !== "-") {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      if (spec.flags?.includes(name) && eq < 0) {
        flags.add(name);
      } else if (spec.values?.includes(name)) {
        let value: string | undefined;
        if (eq > 0) value = arg.slice(eq + 1);
        else value = args[++i];
        if (value === undefined) return usageError(`option '${name}' for '${command}' needs a value`);
        values.set(name, value);
      } else {
        return unknownOption(arg, command);
      }
    } else {
      positional.push(arg);
    }
  }
  const max = spec.maxPositional ?? 0;
  if (positional.length > max) return extraArgument(positional[max] as string, command);
  return { flags, values, positional };
}
