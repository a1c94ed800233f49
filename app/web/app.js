// Vigie's web view. Event text (log lines, Sentry titles, Slack messages) is attacker-controlled:
// it is only ever inserted with textContent, never parsed as HTML. Pages poll Vigie's JSON every second.
"use strict";

const names = { U0ALICE: "alice", U0BOB: "bob", U0YOU: "you" };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// Slack's message text as a person reads it: <@U123> as @name, <url|label> as label, and the
// three escaped characters back (Slack escapes &, < and > in text; we show them as text).
function slackText(t) {
  if (typeof t !== "string") return "";
  return t
    .replace(/<@([A-Z0-9]+)>/g, (_, id) => "@" + (names[id] || id))
    .replace(/<!([a-z]+)(\|[^>]*)?>/g, (_, w) => "@" + w)
    .replace(/<([^<>|]+)\|([^<>]+)>/g, (_, url, label) => label)
    .replace(/<(https?:[^<>]+)>/g, (_, url) => url)
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

async function getJson(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return r.ok;
}

function textOf(obj) { return obj && typeof obj === "object" ? slackText(obj.text) : slackText(obj); }

// The emoji codes Vigie's messages use, as symbols any font has (with a colour); others stay as typed.
const emoji = {
  red_circle: ["\u25CF", "#d00"], large_orange_circle: ["\u25CF", "#e87a00"], large_yellow_circle: ["\u25CF", "#d4a800"],
  large_blue_circle: ["\u25CF", "#1d6fd6"], white_check_mark: ["\u2714", "#138a36"], heavy_check_mark: ["\u2714", "#138a36"],
  eyes: ["\u25C9", "#1d6fd6"], mute: ["\u2298", "#777"], warning: ["\u26A0", "#d4a800"], rotating_light: ["\u25C6", "#d00"],
  x: ["\u2716", "#d00"], no_entry: ["\u2716", "#d00"], hourglass: ["\u231B", "#777"], hourglass_flowing_sand: ["\u231B", "#777"],
  gear: ["\u2699", "#555"], bell: ["\u266A", "#777"], arrows_counterclockwise: ["\u21BB", "#555"],
};

// Slack mrkdwn as elements: *bold*, `code` and :emoji:; every piece of text through textContent.
function mrkdwn(text, tag, cls) {
  const e = el(tag || "div", null, cls);
  for (const part of text.split(/(\*[^*\n]+\*|`[^`\n]+`|:[a-z0-9_+-]+:)/)) {
    if (!part) continue;
    const sym = part.length > 2 && part[0] === ":" && part.endsWith(":") ? emoji[part.slice(1, -1)] : null;
    if (sym) {
      const i = el("span", sym[0], "emoji");
      i.style.color = sym[1];
      e.appendChild(i);
    } else if (part.length > 2 && part[0] === "*" && part.endsWith("*")) e.appendChild(el("b", part.slice(1, -1)));
    else if (part.length > 2 && part[0] === "`" && part.endsWith("`")) e.appendChild(el("code", part.slice(1, -1)));
    else e.appendChild(document.createTextNode(part));
  }
  return e;
}

function renderBlocks(blocks, ctx) {
  const out = document.createDocumentFragment();
  for (const b of Array.isArray(blocks) ? blocks : []) {
    if (b.type === "header") out.appendChild(mrkdwn(textOf(b.text), "div", "block header"));
    else if (b.type === "section") {
      if (b.text) out.appendChild(mrkdwn(textOf(b.text), "div", "block"));
      if (b.fields && b.fields.length) {
        const g = el("div", null, "fields");
        for (const f of b.fields) g.appendChild(mrkdwn(textOf(f), "div", "field"));
        out.appendChild(g);
      }
      if (b.accessory && b.accessory.type === "button") {
        const d = el("div", null, "actions");
        d.appendChild(button(b.accessory, ctx));
        out.appendChild(d);
      }
    } else if (b.type === "context") {
      out.appendChild(mrkdwn((b.elements || []).map(textOf).join("  ·  "), "div", "block context"));
    } else if (b.type === "actions") {
      const d = el("div", null, "actions");
      for (const e of b.elements || []) if (e.type === "button") d.appendChild(button(e, ctx));
      out.appendChild(d);
    } else if (b.type === "divider") out.appendChild(el("hr"));
  }
  return out;
}

function button(e, ctx) {
  const b = el("button", textOf(e.text));
  if (e.style) b.classList.add(e.style);
  b.dataset.actionId = e.action_id || "";
  if (e.url) {
    b.addEventListener("click", () => window.open(e.url, "_blank", "noopener"));
    return b;
  }
  b.addEventListener("click", async () => {
    b.disabled = true;
    await post("/demo/api/click", { action_id: e.action_id, value: e.value || "", ts: ctx.ts || "", channel: ctx.channel || "#ops" });
    setTimeout(refresh, 300);
  });
  return b;
}

function renderMessage(m) {
  const d = el("div", null, "msg");
  d.dataset.ts = m.ts;
  const meta = el("div", null, "meta");
  meta.appendChild(el("b", "Vigie"));
  meta.appendChild(el("span", "APP", "app-tag"));
  if (m.edits > 0) meta.appendChild(el("span", "(edited)", "edited"));
  d.appendChild(meta);
  if (Array.isArray(m.blocks) && m.blocks.length) d.appendChild(renderBlocks(m.blocks, m));
  else d.appendChild(mrkdwn(slackText(m.text), "div", "block"));
  if (m.replies && m.replies.length) {
    const t = el("div", null, "thread");
    for (const r of m.replies) t.appendChild(renderMessage(r));
    d.appendChild(t);
  }
  return d;
}

let lastChannel = "";
async function refreshChannel() {
  const c = await getJson("/demo/api/channel");
  const key = JSON.stringify(c);
  if (key === lastChannel) return;
  lastChannel = key;
  document.getElementById("channel-name").textContent = c.channel;
  document.getElementById("you").textContent = "@" + (names[c.you] || c.you);
  const box = document.getElementById("messages");
  box.replaceChildren(...c.messages.map(renderMessage));
  const eph = (c.ephemeral || []).filter((e) => !e.user || e.user === c.you).slice(-5);
  document.getElementById("ephemeral-box").hidden = eph.length === 0;
  document.getElementById("ephemeral").replaceChildren(...eph.map((e) => renderMessage({ ts: "", text: e.text, blocks: e.blocks })));
}

function table(id, columns, rows) {
  const t = document.getElementById(id);
  const head = el("tr");
  for (const [title] of columns) head.appendChild(el("th", title));
  const body = rows.map((r) => {
    const tr = el("tr");
    for (const [, f, cls] of columns) {
      const td = el("td", f(r));
      if (cls) td.className = cls(r);
      tr.appendChild(td);
    }
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "none");
    td.colSpan = columns.length;
    tr.appendChild(td);
    body.push(tr);
  }
  t.replaceChildren(head, ...body);
}

const labels = (l) => Object.entries(l || {}).map(([k, v]) => k + "=" + v).join(" ");

const pages = {
  alerts: async () => table("alerts", [
    ["#", (a) => a.id], ["rule", (a) => a.rule], ["labels", (a) => labels(a.labels)],
    ["state", (a) => a.state + (a.silenced ? " (silenced)" : "") + (a.inhibited ? " (inhibited)" : ""), (a) => "state-" + a.state],
    ["count", (a) => a.count], ["first seen", (a) => a.first_seen], ["last seen", (a) => a.last_seen],
    ["acked by", (a) => a.acked_by], ["resolved", (a) => a.resolved_at]], await getJson("/ui/api/alerts")),
  silences: async () => table("silences", [
    ["id", (s) => s.id], ["matchers", (s) => JSON.stringify(s.matchers)], ["starts", (s) => s.starts], ["ends", (s) => s.ends],
    ["author", (s) => s.author], ["comment", (s) => s.comment], ["active", (s) => (s.active ? "yes" : "no")]], await getJson("/ui/api/silences")),
  audit: async () => table("audit", [
    ["time", (e) => e.time], ["user", (e) => e.user], ["channel", (e) => e.channel], ["action", (e) => e.action],
    ["alert", (e) => e.alert_id || ""], ["args", (e) => JSON.stringify(e.args)], ["result", (e) => e.result]], await getJson("/ui/api/audit")),
  rules: async () => {
    const r = await getJson("/ui/api/rules");
    document.getElementById("last-reload").textContent = r.last_reload;
    document.getElementById("diagnostics").textContent = r.diagnostics || "no diagnostics";
    table("rules", [["name", (x) => x.name], ["severity", (x) => x.severity], ["description", (x) => x.description],
      ["file", (x) => x.file], ["enabled", (x) => (x.enabled ? "yes" : "no")]], r.rules);
  },
  collectors: async () => table("collectors", [
    ["name", (c) => c.name], ["type", (c) => c.type], ["health", (c) => c.state + (c.error ? " (" + c.error + ")" : "")],
    ["polls", (c) => c.polls], ["events", (c) => c.events], ["errors", (c) => c.errors],
    ["last poll", (c) => c.last_success], ["cursor", (c) => c.cursor]], await getJson("/ui/api/collectors")),
  channel: refreshChannel,
};

let demo = false;
function current() {
  const p = location.hash.replace("#", "");
  if (pages[p] && (p !== "channel" || demo)) return p;
  return demo ? "channel" : "alerts";
}

async function refresh() {
  const p = current();
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + p;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.page === p);
  try {
    await pages[p]();
    document.getElementById("status").textContent = "live";
  } catch (e) {
    document.getElementById("status").textContent = "not answering: " + e.message;
  }
}

async function start() {
  try {
    await getJson("/demo/api/channel");
    demo = true;
    document.getElementById("tab-channel").hidden = false;
  } catch (e) {
    demo = false;
  }
  document.getElementById("say").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("say-text");
    const text = input.value.replace(/^\s*@vigie\s*/i, "");
    if (!text) return;
    input.value = "";
    await post("/demo/api/say", { text });
    setTimeout(refresh, 300);
  });
  window.addEventListener("hashchange", refresh);
  await refresh();
  setInterval(refresh, 1000);
}

start();
