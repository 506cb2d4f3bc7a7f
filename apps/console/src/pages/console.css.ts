/**
 * The console's one stylesheet, served from `/assets/console.css` (the CSP allows styles from
 * the console only; no CDN, no inline styles). System fonts; tables scroll sideways on a phone.
 */
export const CONSOLE_CSS = `
:root {
  --fg: #1b1f24; --muted: #59636e; --bg: #fff; --line: #d1d9e0; --panel: #f6f8fa;
  --accent: #0550ae; --ok: #116329; --ok-bg: #dafbe1; --bad: #a40e26; --bad-bg: #ffebe9;
  --warn: #7d4e00; --warn-bg: #fff8c5;
}
* { box-sizing: border-box; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible,
textarea:focus-visible, .table-wrap:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; z-index: 2; }
.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem;
  padding: .6rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel);
}
.brand { margin: 0; font-weight: 700; }
.brand a { color: var(--fg); text-decoration: none; }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; list-style: none; }
.top nav a { text-decoration: none; padding: .25rem 0; }
.top nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--accent); }
.signout { margin-left: auto; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.who { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre { background: var(--panel); border: 1px solid var(--line); padding: .75rem; overflow-x: auto; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; padding: .5rem .75rem; font-weight: 600; background: var(--panel); }
th, td { text-align: left; padding: .4rem .75rem; border-top: 1px solid var(--line); vertical-align: top; }
th { white-space: nowrap; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.step td { background: #f3f7ff; }
.empty { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; padding: 0; list-style: none; }
.counts a {
  display: inline-block; padding: .3rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  text-decoration: none; color: var(--fg);
}
.counts a[aria-current="true"] { border-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); }
.counts b { font-variant-numeric: tabular-nums; }
form.filters {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem;
  align-items: end; padding: .75rem; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 1rem;
}
label { display: block; font-weight: 600; font-size: .9rem; margin-bottom: .2rem; }
.hint { color: var(--muted); font-size: .85rem; margin: .2rem 0 0; }
input[type=text], input[type=search], input[type=password], select, textarea {
  width: 100%; padding: .45rem .5rem; font: inherit; border: 1px solid #8c959f; border-radius: 6px;
}
textarea { min-height: 5rem; }
form.filters .actions { grid-column: 1 / -1; margin: 0; }
.check { display: flex; gap: .4rem; align-items: center; font-weight: 600; }
button, .button {
  display: inline-block; padding: .45rem .9rem; font: inherit; font-weight: 600; cursor: pointer;
  border: 1px solid #1f6feb; border-radius: 6px; background: #1f6feb; color: #fff; text-decoration: none;
}
button.secondary, .button.secondary { background: var(--bg); color: var(--accent); border-color: #8c959f; }
button.danger, .button.danger { background: #cf222e; border-color: #cf222e; }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .75rem 0; }
.notice { padding: .75rem 1rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid; }
.notice.ok { background: var(--ok-bg); border-color: #4ac26b; }
.notice.error { background: var(--bad-bg); border-color: #ff8182; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .5rem 1.5rem; margin: 0; }
.facts div { border-bottom: 1px solid var(--line); padding: .3rem 0; }
.facts dt { color: var(--muted); font-size: .85rem; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.state { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; font-weight: 700; background: var(--panel); border: 1px solid var(--line); white-space: nowrap; }
.state-completed, .state-resolved { background: var(--ok-bg); color: var(--ok); border-color: #4ac26b; }
.state-failed, .state-stock-failed, .state-payment-failed { background: var(--bad-bg); color: var(--bad); border-color: #ff8182; }
.state-compensating, .state-cancelled { background: var(--warn-bg); color: var(--warn); border-color: #d4a72c; }
.confirm { max-width: 40rem; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
.login { max-width: 36rem; }
.pager { margin: .75rem 0; }
@media (max-width: 600px) {
  .top { padding: .5rem .75rem; }
  .signout { margin-left: 0; }
  main { padding: .75rem; }
  h1 { font-size: 1.25rem; }
  th, td { padding: .35rem .5rem; }
}
`;
