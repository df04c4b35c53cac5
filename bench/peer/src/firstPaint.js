// The benchmark's marks, as Switchboard sets them: the first live frame, and the animation
// frame after it is on screen.
const marked = new Set();

export function markFirstLive(url) {
  if (marked.has(url)) return;
  marked.add(url);
  performance.mark(`sb:first-live:${url}`);
  requestAnimationFrame(() => performance.mark(`sb:first-live-paint:${url}`));
}
