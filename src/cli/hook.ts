// Placeholder until its issue lands.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write("atmd: 'hook' is not available in this build yet\n");
  return 1;
}
