// Daemon log lines (DAEMON.md §9): one line per event, a level, and nothing a client sends can
// break a line or reach a terminal as a control sequence.
import { expect, test } from "bun:test";
import { Logger } from "../../src/system/log.ts";

function capture(level: "error" | "warn" | "info" | "debug" = "info"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger(level, (l) => lines.push(l)), lines };
}

test("format: timestamp, LEVEL, message, newline; levels below the threshold are dropped", () => {
  const { log, lines } = capture("info");
  log.info("hello");
  log.debug("not shown");
  log.warn("careful");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00 INFO hello\n$/);
  expect(lines[1]).toEndWith(" WARN careful\n");
});

test("line breaks become spaces, other control characters '?'", () => {
  const { log, lines } = capture();
  log.info("session a\nb created");
  log.info("x\r\ny\rz");
  log.info("id \u001b[31mred\u001b[0m \u0000 \u009b2J \u007f end");
  log.info("plain ünïcødé ✓");
  expect(lines.map((l) => l.slice(l.indexOf(" INFO ") + 6))).toEqual([
    "session a b created\n",
    "x y z\n",
    "id ?[31mred?[0m ? ?2J ? end\n",
    "plain ünïcødé ✓\n",
  ]);
});
