// Progressive enhancement only: every page works without this file.
// Forms marked data-confirm ask before they submit (erasure cannot be undone).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
