// Placeholder until `start -d` lands (issue "Daemon lifecycle").
export async function launchDetached(): Promise<number> {
  process.stderr.write("atmd: 'start -d' is not available in this build yet\n");
  return 1;
}
