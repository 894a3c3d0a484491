/**
 * The text of xy's service definitions (pure): a systemd user unit and a
 * launchd agent that run `xy daemon` at login with the PATH of the user who
 * installed them. A service manager starts programs with a bare PATH, where
 * `npx`, `uvx` or an nvm-installed `node` are not found: recording the
 * installer's PATH is what makes servers start at login as they do from a
 * shell. Every file carries {@link MARKER}, so xy only ever replaces or
 * removes a file it wrote.
 */

/** The line that says a service file is xy's own. */
export const MARKER = "Written by `xy service install`; `xy service uninstall` removes it.";

/** The systemd user unit's name. */
export const SYSTEMD_UNIT = "xy.service";

/** The launchd agent's label (and the plist's name, with `.plist`). */
export const LAUNCHD_LABEL = "dev.xy.daemon";

/** What the service runs. */
export interface ServiceSpec {
  /** The daemon's command line: an absolute executable, then its arguments. */
  readonly argv: readonly string[];
  /** Variables the daemon gets (PATH first of all). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Where launchd appends what the process prints outside its own log, which
   * it writes and rotates itself under launchd (a runtime's crash); systemd
   * keeps the daemon's output in the journal.
   */
  readonly outFile: string;
}

/** Whether a service file's text is one xy wrote. */
export function isOurs(text: string): boolean {
  return text.includes(MARKER);
}

/**
 * `~/.config/systemd/user/xy.service`. `KillMode=mixed`: a stop sends
 * SIGTERM to the daemon alone, which stops the servers itself (dependents
 * first, each within its grace); what is left when the timeout passes is
 * killed. `Restart=on-failure`: `xy daemon stop` exits 0 and stays stopped.
 */
export function systemdUnit(spec: ServiceSpec): string {
  const env = Object.entries(spec.env).map(([k, v]) =>
    `Environment=${systemdQuote(`${k}=${v}`, false)}`
  );
  return [
    `# ${MARKER}`,
    "[Unit]",
    "Description=xy: keeps local MCP servers and other long-running commands alive",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${spec.argv.map((w, i) => systemdQuote(w, i > 0)).join(" ")}`,
    ...env,
    "Restart=on-failure",
    "RestartSec=2",
    "KillMode=mixed",
    "TimeoutStopSec=90",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/**
 * `~/Library/LaunchAgents/dev.xy.daemon.plist`. KeepAlive only after a
 * failure, as with systemd: `xy daemon stop` stays stopped until next login.
 */
export function launchdPlist(spec: ServiceSpec): string {
  const s = (v: string) => `<string>${xmlEscape(v)}</string>`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<!-- ${MARKER} -->`,
    `<plist version="1.0">`,
    `<dict>`,
    `  <key>Label</key>`,
    `  ${s(LAUNCHD_LABEL)}`,
    `  <key>ProgramArguments</key>`,
    `  <array>`,
    // The daemon writes and rotates its log itself (`--background`): launchd's
    // output file is never rotated, so only what escapes the log goes there.
    ...[...spec.argv, "--background"].map((a) => `    ${s(a)}`),
    `  </array>`,
    `  <key>EnvironmentVariables</key>`,
    `  <dict>`,
    ...Object.entries(spec.env).flatMap((
      [k, v],
    ) => [`    <key>${xmlEscape(k)}</key>`, `    ${s(v)}`]),
    `  </dict>`,
    `  <key>RunAtLoad</key>`,
    `  <true/>`,
    `  <key>KeepAlive</key>`,
    `  <dict>`,
    `    <key>SuccessfulExit</key>`,
    `    <false/>`,
    `  </dict>`,
    `  <key>StandardOutPath</key>`,
    `  ${s(spec.outFile)}`,
    `  <key>StandardErrorPath</key>`,
    `  ${s(spec.outFile)}`,
    `</dict>`,
    `</plist>`,
    "",
  ].join("\n");
}

/**
 * One word of a systemd command line: double-quoted with C escapes, `%`
 * doubled (specifiers), and `$` doubled (variables) — except where `$` means
 * itself (`dollars: false`): an assignment, or the executable's path
 * (systemd-analyze verify shows both).
 */
export function systemdQuote(word: string, dollars = true): string {
  const escaped = word.replace(
    /[\\"\n\t]/g,
    (c) => c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\${c}`,
  ).replaceAll("%", "%%");
  return `"${dollars ? escaped.replaceAll("$", "$$$$") : escaped}"`;
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text for XML content and attributes. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}
