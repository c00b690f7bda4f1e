// Preloaded by bunfig.toml for every `bun test` run: integration tests spawn real daemons, and a
// slow shared 2-core machine needs more than bun's 5 s default per test.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(20_000);
