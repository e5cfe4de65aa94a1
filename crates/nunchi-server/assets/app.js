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
// A conversation page's thread follows the conversation live, and the composer sends
// through the same socket (the form still posts when the socket is not there).
const thread = document.getElementById("thread");
if (thread && thread.dataset.socket && window.WebSocket) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const indicator = document.getElementById("thread-live");
  const live = window.nunchiLiveThread({
    url: scheme + location.host + thread.dataset.socket,
    conversation: Number(thread.dataset.conversation),
    seq: Number(thread.dataset.seq),
    onState: (state) => {
      if (!indicator) { return; }
      indicator.dataset.state = state;
      indicator.querySelector("span").textContent = state === "live" ? indicator.dataset.live : state === "reconnecting" ? indicator.dataset.reconnecting : indicator.querySelector("span").textContent;
    },
    onLine: (frame) => {
      if (document.getElementById("m-" + frame.id)) { return; }
      const holder = document.createElement("ol");
      holder.innerHTML = frame.html;
      const item = holder.firstElementChild;
      if (!item) { return; }
      if (frame.client_id) {
        const pending = thread.querySelector('li[data-client="' + frame.client_id + '"]');
        if (pending) { pending.remove(); }
      }
      // Lines stay in number order, pending ones last.
      const firstPending = thread.querySelector("li.msg-pending");
      thread.insertBefore(item, firstPending);
    },
    onError: (frame) => {
      const pending = frame.client_id && thread.querySelector('li[data-client="' + frame.client_id + '"]');
      if (pending) { pending.classList.add("failed"); pending.title = frame.message; }
    },
  });
  const form = document.getElementById("composer-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      const box = form.querySelector("textarea");
      const text = box.value.trim();
      if (!text) { return; }
      // Files go with the form itself; the socket carries text only.
      const files = form.querySelector('input[type="file"]');
      if (files && files.files.length > 0) { return; }
      event.preventDefault();
      const note = event.submitter && event.submitter.value === "note";
      const id = live.send(text, note);
      const item = document.createElement("li");
      item.className = "msg-pending";
      item.dataset.client = id;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = thread.dataset.pending;
      const body = document.createElement("div");
      body.className = "body";
      body.textContent = text;
      item.append(meta, body);
      thread.append(item);
      box.value = "";
    });
  }
}
// The inbox says when conversations move while it is open.
const moved = document.getElementById("inbox-moved");
if (moved && moved.dataset.socket && window.WebSocket) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const listen = (delay) => {
    const sock = new WebSocket(scheme + location.host + moved.dataset.socket);
    sock.onopen = () => { delay = 500; };
    sock.onmessage = () => { moved.hidden = false; };
    sock.onclose = () => { setTimeout(() => listen(Math.min(delay * 2, 10000)), delay); };
  };
  listen(500);
}
// The navigation's groups open one at a time, and close when the page is clicked elsewhere.
const groups = Array.from(document.querySelectorAll("details.group"));
groups.forEach((g) => g.addEventListener("toggle", () => {
  if (g.open) { groups.forEach((other) => { if (other !== g) { other.open = false; } }); }
}));
document.addEventListener("click", (event) => {
  if (!event.target.closest("details.group")) { groups.forEach((g) => { g.open = false; }); }
});
// The segment builder counts who matches as the rule is typed (the Preview button does the
// same without this script).
const ruleBox = document.getElementById("segment-rule");
const liveCount = document.getElementById("segment-live");
if (ruleBox && liveCount && window.fetch) {
  let timer = null;
  let asked = 0;
  ruleBox.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const mine = ++asked;
      fetch("/segments/preview", {
        method: "POST",
        headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(ruleBox.form)),
      })
        .then((r) => r.json())
        .then((p) => {
          if (mine !== asked) { return; }
          liveCount.classList.toggle("bad", Boolean(p.error));
          liveCount.textContent = p.error
            ? p.error
            : `${p.customers.toLocaleString()} / ${p.of.toLocaleString()} ${liveCount.dataset.matches} — ${p.sentence}`;
        })
        .catch(() => {});
    }, 400);
  });
}
// Every chart can be saved as a file: the SVG the server drew, with the stylesheet's
// colours written into it so it stands alone, or a PNG of it at twice its size.
const chartLabels = document.documentElement.lang === "ko"
  ? { svg: "SVG로 저장", png: "PNG로 저장" }
  : { svg: "Save SVG", png: "Save PNG" };
const STYLED = ["fill", "stroke", "stroke-width", "stroke-dasharray", "opacity", "font-size", "font-weight", "font-family"];
const standalone = (svg) => {
  const copy = svg.cloneNode(true);
  const live = [svg, ...svg.querySelectorAll("*")];
  const copied = [copy, ...copy.querySelectorAll("*")];
  live.forEach((el, i) => {
    const style = getComputedStyle(el);
    copied[i].setAttribute("style", STYLED.map((p) => `${p}:${style.getPropertyValue(p)}`).join(";"));
  });
  return new XMLSerializer().serializeToString(copy);
};
document.querySelectorAll("svg.chart").forEach((svg) => {
  const name = (svg.getAttribute("aria-label") || "chart").replace(/[\\/:*?"<>|\s]+/g, "_");
  const bar = document.createElement("p");
  bar.className = "chart-export";
  const asSvg = document.createElement("a");
  asSvg.href = "#";
  asSvg.textContent = chartLabels.svg;
  const asPng = document.createElement("a");
  asPng.href = "#";
  asPng.textContent = chartLabels.png;
  const save = (blob, ext) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${name}.${ext}`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  asSvg.addEventListener("click", (e) => {
    e.preventDefault();
    save(new Blob([standalone(svg)], { type: "image/svg+xml" }), "svg");
  });
  asPng.addEventListener("click", (e) => {
    e.preventDefault();
    const box = svg.viewBox.baseVal;
    const img = new Image();
    const url = URL.createObjectURL(new Blob([standalone(svg)], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = box.width * 2;
      canvas.height = box.height * 2;
      const g = canvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => save(blob, "png"), "image/png");
    };
    img.src = url;
  });
  bar.append(asSvg, " · ", asPng);
  svg.after(bar);
});
// The segment builder's form: conditions picked from lists instead of typed as JSON. The
// JSON box stays the rule that is saved; the form writes it (and the live count follows),
// and reads it back when it is flat enough to show.
const vocabulary = document.getElementById("segment-vocabulary");
const builder = document.getElementById("segment-builder");
if (vocabulary && builder && ruleBox) {
  const vocab = JSON.parse(vocabulary.textContent);
  const CMP = [["gte", "≥"], ["gt", ">"], ["eq", "="], ["ne", "≠"], ["lte", "≤"], ["lt", "<"]];
  const pairs = (keys) => keys.map((k) => [k, k]);
  // Each condition's fields: [name, kind, choices?]. A kind ending in "?" may stay empty.
  const FIELDS = {
    tag: [["tag", "text"]],
    attribute: [["key", "list", pairs(vocab.choices.attribute)], ["cmp", "list", CMP], ["value", "text"]],
    consent: [["channel", "list", pairs(vocab.choices.channel)], ["purpose", "list", pairs(vocab.choices.purpose)]],
    identity: [["kind", "list", pairs(vocab.choices.identity)]],
    event: [["name", "list", pairs(vocab.choices.event)], ["at_least", "int"], ["within_days", "int?"]],
    event_days: [["which", "list", pairs(["last", "first"])], ["name", "list?", pairs(vocab.choices.event)], ["cmp", "list", CMP], ["value", "number"]],
    orders: [["measure", "list", pairs(["count", "spend", "days_since_last"])], ["cmp", "list", CMP], ["value", "number"], ["within_days", "int?"], ["product", "text?"], ["category", "text?"]],
    rating: [["metric", "list", pairs(vocab.choices.metric)], ["cmp", "list", CMP], ["value", "number"], ["within_days", "int?"]],
    nps: [["groups", "one", pairs(vocab.choices.nps_groups)]],
    sentiment: [["cmp", "list", CMP], ["value", "number"], ["within_days", "int?"]],
    topic: [["topic", "text"], ["negative", "bool"], ["within_days", "int?"]],
    open_conversation: [],
    segment: [["segment", "int-list", vocab.choices.segment.map((s) => [String(s.id), s.name])]],
    rfm: [["cells", "one", pairs(vocab.choices.rfm)]],
    value: [["measure", "list", pairs(["clv", "probability_alive", "expected_purchases"])], ["cmp", "list", CMP], ["value", "number"]],
    tier: [["tier", "list", pairs(vocab.choices.tier)]],
    loyalty: [["measure", "list", pairs(["points"])], ["cmp", "list", CMP], ["value", "number"]],
  };
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => { e[k] = v; });
    e.append(...children);
    return e;
  };
  const select = (options, value) => {
    const s = el("select");
    options.forEach(([v, label]) => s.append(el("option", { value: v, textContent: label, selected: v === String(value ?? "") })));
    return s;
  };
  const mode = select([["all", vocab.words.all], ["any", vocab.words.any]], "all");
  const rows = el("div", { className: "builder-rows" });
  const add = el("button", { type: "button", className: "secondary", textContent: vocab.words.add });
  const note = el("p", { className: "muted", textContent: vocab.words.complex, hidden: true });
  builder.append(el("p", { className: "builder-match" }, vocab.words.match, " ", mode), rows, add, note);
  builder.hidden = false;
  // One condition row: its type, its fields, "not" and remove.
  const row = (cond = { type: "event" }, negated = false) => {
    const r = el("div", { className: "builder-row" });
    const type = select(Object.entries(vocab.types), cond.type);
    const not = el("input", { type: "checkbox", checked: negated });
    const fields = el("span", { className: "builder-fields" });
    const draw = (c) => {
      fields.replaceChildren();
      (FIELDS[type.value] || []).forEach(([name, kind, choices]) => {
        const raw = Array.isArray(c[name]) ? c[name][0] : c[name];
        let input;
        if (kind === "bool") {
          input = el("input", { type: "checkbox", checked: Boolean(raw) });
        } else if (choices) {
          const opts = kind.endsWith("?") ? [["", "—"], ...choices] : choices;
          input = select(opts, raw);
        } else {
          input = el("input", { value: raw ?? (kind === "int" ? "1" : ""), size: 8, inputMode: kind === "text" ? "text" : "decimal" });
        }
        input.dataset.field = name;
        input.dataset.kind = kind;
        fields.append(el("label", { className: "builder-field" }, vocab.fields[name] || name, " ", input));
      });
    };
    draw(cond);
    type.addEventListener("change", () => { draw({}); write(); });
    const remove = el("button", { type: "button", className: "link", textContent: vocab.words.remove });
    remove.addEventListener("click", () => { r.remove(); write(); });
    r.append(el("label", {}, not, " ", vocab.words.not), " ", type, " ", fields, " ", remove);
    r.addEventListener("change", write);
    r.addEventListener("input", write);
    rows.append(r);
  };
  // The form as a rule.
  const read = (r) => {
    const cond = { type: r.querySelector("select").value };
    r.querySelectorAll("[data-field]").forEach((input) => {
      const { field, kind } = input.dataset;
      const v = input.type === "checkbox" ? input.checked : input.value.trim();
      if (kind === "bool") { cond[field] = v; return; }
      if (v === "") { return; }
      if (kind === "one") { cond[field] = [v]; return; }
      cond[field] = kind.startsWith("int") ? parseInt(v, 10) : kind === "number" ? Number(v) : v;
    });
    return r.querySelector("input[type=checkbox]").checked ? { type: "not", rule: cond } : cond;
  };
  let writing = false;
  function write() {
    const rules = Array.from(rows.children).map(read);
    ruleBox.value = JSON.stringify({ type: mode.value, rules }, null, 2);
    writing = true;
    ruleBox.dispatchEvent(new Event("input"));
    writing = false;
  }
  // The JSON box as a form, when it is one group of conditions (each maybe negated).
  const load = () => {
    let rule;
    try { rule = JSON.parse(ruleBox.value); } catch { rule = null; }
    const flat = rule && (rule.type === "all" || rule.type === "any") ? rule.rules : rule ? [rule] : [];
    const leaf = (r) => r && FIELDS[r.type] !== undefined;
    const shown = flat.every((r) => leaf(r) || (r.type === "not" && leaf(r.rule)));
    note.hidden = shown;
    rows.hidden = !shown;
    add.hidden = !shown;
    rows.replaceChildren();
    if (!shown) { return; }
    mode.value = rule && rule.type === "any" ? "any" : "all";
    flat.forEach((r) => (r.type === "not" ? row(r.rule, true) : row(r)));
  };
  mode.addEventListener("change", write);
  add.addEventListener("click", () => { row(); write(); });
  // JSON typed by hand shows in the form once the typing pauses.
  let typed = null;
  ruleBox.addEventListener("input", () => {
    if (writing) { return; }
    clearTimeout(typed);
    typed = setTimeout(load, 400);
  });
  load();
}
