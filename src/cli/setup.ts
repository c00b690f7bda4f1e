// Placeholder until its issue lands.
export async function runSetup(_args: string[]): Promise<number> {
  process.stderr.write("atmd: 'setup' is not available in this build yet\n");
  return 1;
}
export async function runUninstall(_args: string[]): Promise<number> {
  process.stderr.write("atmd: 'uninstall' is not available in this build yet\n");
  return 1;
}
