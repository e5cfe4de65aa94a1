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
  source.addEventListener("open", () => { document.getElementById("voc-live").hidden = false; });
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
