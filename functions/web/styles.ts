/**
 * The one style sheet: phone first, one column that widens on larger screens; colours chosen for WCAG AA
 * contrast; focus always visible; motion only where the user has not asked for less.
 */
export const styles = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --bg: #fafafa; --card: #fff; --line: #ccc;
  --accent: #0b5cad; --accent-fg: #fff; --ok: #1d6b2f; --warn: #8a4b00; --taken: #767676; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Apple SD Gothic Neo", "Noto Sans KR", sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #f5a300; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
.top ul { display: flex; flex-wrap: wrap; gap: .75rem; list-style: none; margin: 0; padding: 0; }
.account, main, .alert { max-width: 48rem; margin: 0 auto; padding: .5rem 1rem; }
main { padding-bottom: 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; }
.muted { color: var(--muted); }
.alert { background: #fde8e8; color: #7a1111; border: 1px solid #e3a5a5; border-radius: .5rem; }
.notice { background: #fff4e0; color: var(--warn); border-radius: .5rem; padding: .5rem .75rem; }
.notice[data-paused="false"] { background: #e7f4ea; color: var(--ok); }
.cards { list-style: none; padding: 0; display: grid; gap: .75rem; }
.cards a, .card { display: grid; gap: .25rem; padding: 1rem; background: var(--card); border: 1px solid var(--line);
  border-radius: .75rem; text-decoration: none; color: var(--fg); }
.button, button { display: inline-block; min-height: 44px; padding: .6rem 1rem; border-radius: .5rem; border: 0;
  background: var(--accent); color: var(--accent-fg); font: inherit; font-weight: 600; text-decoration: none;
  cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
button:disabled { background: #9bb3cc; cursor: not-allowed; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem; margin: 0 0 1rem; }
.stats div { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .75rem; }
.stats dt { font-size: .85rem; color: var(--muted); }
.stats dd { margin: 0; font-size: 1.4rem; font-weight: 700; }
progress { width: 100%; height: 1.25rem; margin: .25rem 0 1rem; }
.seat-map { border: 0; padding: 0; margin: 0; }
.seat-map legend { margin-bottom: .5rem; }
.seats { display: grid; grid-template-columns: repeat(auto-fill, minmax(3rem, 1fr)); gap: .4rem; }
.seat { min-width: 44px; padding: .5rem 0; background: #e7f4ea; color: var(--ok); border: 2px solid var(--ok); }
.seat[data-status="HELD"], .seat[data-status="SOLD"] { background: #eee; color: var(--taken); border-color: #bbb;
  text-decoration: line-through; cursor: not-allowed; }
.hold { background: #e8f0fb; border: 1px solid var(--accent); border-radius: .75rem; padding: .75rem 1rem; margin-bottom: 1rem; }
.actions, .inline-form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
.inline-form p { margin: 0; display: grid; }
.inline-form h2, .inline-form > p.muted { flex-basis: 100%; margin: 0; }
input { font: inherit; padding: .5rem; min-height: 44px; border: 1px solid #767676; border-radius: .4rem; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; background: #e7f4ea; color: var(--ok); font-weight: 600; }
.badge[data-paused="true"] { background: #fff4e0; color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--line); text-align: left; }
td, thead th + th { text-align: right; font-variant-numeric: tabular-nums; }
.events { list-style: none; padding: 0; margin: 0; font-size: .9rem; }
.events li { padding: .35rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.events time { font-variant-numeric: tabular-nums; }
@media (min-width: 40rem) { h1 { font-size: 2rem; } .seats { grid-template-columns: repeat(10, 1fr); } }
@media (prefers-reduced-motion: no-preference) { progress { transition: all .3s; } }
`;
