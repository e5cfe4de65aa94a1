// Progressive enhancement only: every page works without this file.
// Forms marked data-confirm ask before they submit (erasure cannot be undone).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
// The VoC feed: new feedback arrives as server-sent events carrying the item's HTML.
const feed = document.getElementById("voc-feed");
if (feed && window.EventSource) {
  const source = new EventSource(feed.dataset.stream);
  // The indicator says whether new feedback is arriving: connecting, live, or reconnecting
  // (EventSource retries by itself after an error).
  const live = document.getElementById("voc-live");
  const show = (state) => {
    if (!live) { return; }
    live.dataset.state = state;
    live.querySelector("span").textContent = state === "live" ? live.dataset.live : live.dataset.reconnecting;
  };
  source.addEventListener("open", () => show("live"));
  source.addEventListener("error", () => show("reconnecting"));
  source.addEventListener("feedback", (event) => {
    const holder = document.createElement("ul");
    holder.innerHTML = event.data;
    const item = holder.firstElementChild;
    if (item && !document.getElementById(item.id)) {
      item.classList.add("fresh");
      feed.prepend(item);
      const empty = document.getElementById("voc-empty");
      if (empty) { empty.remove(); }
    }
  });
}
