// forward() (src/integration/forward.ts) over a stubbed ForwardIo: the parts of DAEMON.md §10.2 that
// the end-to-end hook tests cannot reach on this machine.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { type ForwardIo, forward, newState } from "../../src/integration/forward.ts";
import { nodeForwardIo } from "../../src/integration/forward-node.ts";
import { tempDir } from "../helpers/daemon.ts";

const servers: { stop(force?: boolean): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

/** node:fs I/O, but /proc says the parent is a process named claude whose parent is pid 1. */
function io(over: Partial<ForwardIo> = {}): ForwardIo {
  const fakeStat = new TextEncoder().encode(`${process.ppid} (claude) S 1 ${" 0".repeat(30)}\n`);
  return {
    ...nodeForwardIo,
    readFile: (path) => (path === `/proc/${process.ppid}/stat` ? fakeStat : nodeForwardIo.readFile(path)),
    ...over,
  };
}

const event = new TextEncoder().encode(
  JSON.stringify({ session_id: "s-1", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { x: 1 } }),
);

function listen(): { sock: string; received: Promise<string> } {
  const sock = join(tempDir(), "f.sock");
  let got = "";
  let done!: (s: string) => void;
  const received = new Promise<string>((r) => (done = r));
  servers.push(
    Bun.listen({
      unix: sock,
      socket: {
        data(_s, d) {
          got += d.toString();
        },
        close() {
          done(got);
        },
      },
    }),
  );
  return { sock, received };
}

async function withSocket<T>(sock: string, f: () => Promise<T>): Promise<T> {
  const before = process.env.ATM_SOCKET;
  process.env.ATM_SOCKET = sock;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.ATM_SOCKET;
    else process.env.ATM_SOCKET = before;
  }
}

test("statx unavailable (old kernel, seccomp): the socket is checked through node:fs instead", async () => {
  const { sock, received } = listen();
  const state = newState("hook");
  const r = await withSocket(sock, () =>
    forward(io({ checkSocket: () => "unsupported" }), event, state, performance.now() + 2000),
  );
  expect(r).toBe("sent");
  const text = await Promise.race([received, Bun.sleep(2000).then(() => "(nothing)")]);
  expect(text).toContain(`"type":"hook_event","data":{"session_id":"s-1","hook_event_name":"PreToolUse","tool_name":"Bash","pid":${process.ppid}}`);
  expect(state.pid).toBe(process.ppid);
});

test("a check that says foreign or missing sends nothing", async () => {
  const { sock } = listen();
  for (const verdict of ["foreign-socket", "no-socket"] as const) {
    let sent = false;
    const r = await withSocket(sock, () =>
      forward(
        io({
          checkSocket: () => verdict,
          send: () => {
            sent = true;
            return "sent";
          },
        }),
        event,
        newState("hook"),
        performance.now() + 2000,
      ),
    );
    expect(r).toBe(verdict);
    expect(sent).toBe(false);
  }
});

test("no Claude process on the walk: nothing is checked or sent", async () => {
  let asked = false;
  const r = await forward(
    {
      ...nodeForwardIo,
      readFile: () => null,
      checkSocket: () => {
        asked = true;
        return "ok";
      },
    },
    event,
    newState("hook"),
    performance.now() + 2000,
  );
  expect(r).toBe("no-claude-process");
  expect(asked).toBe(false);
});
