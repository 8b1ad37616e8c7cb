// socialid console: the public API only, with the rep's own key (kept in sessionStorage,
// so it ends with the tab). Every text from the API goes in as textContent, never as
// markup: a customer's message must not be able to run in a rep's browser.

const KEY = "socialid.key";
const FLAG_LABELS = {
  open_complaint: "Open complaint: fix it before selling",
  promise_due: "Promise owed",
  promise_overdue: "Promise overdue",
  unapplied_credit: "Credit not yet applied",
  recent_commitment_increase: "Just renewed or upgraded: no retention offer",
  repeat_contact: "Repeat contact",
  billing_dispute: "Billing dispute",
};
const STOP_FLAGS = new Set(["open_complaint", "promise_overdue", "billing_dispute"]);

const state = { key: null, me: null, rep: null, current: null, refresh: null, linkedName: null, onChannel: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new ApiError(resp.status, data || {});
  return data;
}

function say(message) {
  $("status").textContent = message;
}

function ago(iso) {
  if (!iso) return "";
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}

function sla(iso) {
  if (!iso) return el("span", {}, "no SLA");
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60000);
  if (minutes < 0) return el("span", { class: "overdue" }, `SLA overdue by ${-minutes} min`);
  return el("span", {}, `SLA due in ${minutes} min`);
}

// -- signing in ---------------------------------------------------------------------
async function signIn(key) {
  state.key = key;
  const me = await api("GET", "/v1/me");
  if (!me.rep) {
    throw new Error("This key is not bound to a rep: ask an admin for one (socialid keys create --rep).");
  }
  state.me = me;
  sessionStorage.setItem(KEY, key);
  await loadRep();
  $("sign-in-view").hidden = true;
  $("app").hidden = false;
  for (const id of ["search", "who", "sign-out"]) $(id).hidden = false;
  await loadQueue();
  listen();
}

async function loadRep() {
  state.rep = await api("GET", `/v1/reps/${encodeURIComponent(state.me.rep)}`);
  const rep = state.rep;
  $("who").textContent = `${rep.name} (${rep.id}), team ${rep.team}, ${rep.on_shift ? "on shift" : "off shift"}`;
  $("shift-start").hidden = rep.on_shift;
  $("shift-end").hidden = !rep.on_shift;
  $("queue-title").textContent = `Queue: ${rep.team}`;
}

function signOut() {
  sessionStorage.removeItem(KEY);
  location.reload();
}

// -- the queue, live ----------------------------------------------------------------
function row(conv, label) {
  const current = state.current === conv.id;
  return el("li", {},
    el("button", {
      class: "row", type: "button", "data-conversation": conv.id,
      "aria-current": current ? "true" : null,
      onclick: () => openConversation(conv.id),
    },
      el("span", {}, el("strong", {}, conv.channel), " · ", label),
      el("span", { class: "meta" }, `${conv.status}, ${conv.priority}`,
        conv.owner ? `, owned by ${conv.owner}` : "", ` · opened ${ago(conv.created_at)} · `,
        sla(conv.sla_due))));
}

function customerLabel(conv) {
  return conv.customer_id ? `customer ${conv.customer_id}` : "unknown sender";
}

async function loadQueue() {
  const team = state.rep.team;
  const [queue, mine] = await Promise.all([
    api("GET", `/v1/queue?team=${encodeURIComponent(team)}`),
    api("GET", `/v1/conversations?owner=${encodeURIComponent(state.rep.id)}`),
  ]);
  const list = queue.conversations;
  $("queue-list").replaceChildren(
    ...(list.length ? list.map((c) => row(c, customerLabel(c))) : [el("li", { class: "muted" }, "Nothing waiting.")]));
  const owned = mine.conversations.filter((c) => c.status !== "closed");
  $("mine-list").replaceChildren(
    ...(owned.length ? owned.map((c) => row(c, customerLabel(c))) : [el("li", { class: "muted" }, "None.")]));
}

function refreshSoon(conversationId) {
  clearTimeout(state.refresh);
  state.refresh = setTimeout(async () => {
    try {
      await loadQueue();
      if (conversationId && conversationId === state.current) await openConversation(conversationId, false);
    } catch (err) { say(err.message); }
  }, 150);
}

// EventSource cannot send the key in a header, so the stream is read with fetch.
async function listen() {
  const team = encodeURIComponent(state.rep.team);
  for (;;) {
    try {
      const resp = await fetch(`/v1/stream?team=${team}`, { headers: { Authorization: `Bearer ${state.key}` } });
      if (!resp.ok) throw new Error(`stream ${resp.status}`);
      $("queue-live").textContent = "Live: new messages appear here.";
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) refreshSoon(JSON.parse(data).conversation_id);
        }
      }
    } catch (err) {
      $("queue-live").textContent = "Reconnecting to the live stream…";
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// -- a conversation -----------------------------------------------------------------
async function openConversation(id, focus = true) {
  const same = state.current === id;
  state.current = id;
  const brief = await api("GET", `/v1/conversations/${encodeURIComponent(id)}/brief`);
  const conv = brief.conversation;
  const body = [];
  const handoffs = brief.notes.filter((n) => n.kind === "handoff");
  if (handoffs.length) {
    body.push(el("h3", {}, "Brief"));
    for (const note of handoffs) {
      body.push(el("p", { class: "brief-note" },
        el("strong", {}, `Handed over by ${note.by || "a rep"} ${ago(note.at)}: `), note.text));
    }
  }
  body.push(el("p", { class: "muted" },
    `${conv.channel} · ${conv.status} · priority ${conv.priority}`,
    conv.priority_reason ? ` (raised by socialid: ${conv.priority_reason})` : "", " · ",
    conv.owner ? `owned by ${conv.owner}` : "nobody owns it", " · ", sla(conv.sla_due)));
  body.push(actions(conv));
  state.linkedName = null;
  state.onChannel = conv.channel;
  const inbound = brief.thread.filter((line) => line.message_id);
  state.lastMessage = inbound.length ? inbound[inbound.length - 1].message_id : null;
  if (brief.context) body.push(...card(brief.context));
  else body.push(...await candidates(conv));
  body.push(el("h3", {}, "Thread"));
  body.push(el("ol", { class: "thread" }, brief.thread.map((line) =>
    el("li", { class: line.direction },
      el("span", { class: "muted" }, line.direction === "inbound" ? "Customer" : `Reply by ${line.by}`, ` · ${ago(line.at)}`,
        line.topic && line.topic.topic !== "other" ? ` · ${line.topic.label} (${line.topic.evidence.join(", ")})` : "",
        line.case ? ` · case ${line.case.case_id}${line.case.by === "socialid" ? "" : ` (moved by ${line.case.by})`}` : ""),
      el("br"), line.text))));
  const notes = brief.notes.filter((n) => n.kind === "note");
  if (notes.length) {
    body.push(el("h3", {}, "Notes"));
    body.push(el("ul", {}, notes.map((n) => el("li", {}, `${n.by}: ${n.text}`))));
  }
  if (brief.elsewhere.length) {
    body.push(el("h3", {}, "Said elsewhere since"));
    body.push(el("ul", {}, brief.elsewhere.map((e) => el("li", {}, `${e.channel || "?"}: ${e.text}`))));
  }
  $("detail-title").textContent = conv.customer_id && brief.context
    ? `${brief.context.name} (${conv.customer_id})`
    : state.linkedName ? `${state.linkedName}, linked by a rep` : "Unknown sender";
  // A live refresh must not lose what the rep is typing.
  const draft = same ? $("reply-text") : null;
  const typed = draft ? draft.value : "";
  const typing = draft !== null && document.activeElement === draft;
  $("detail-body").replaceChildren(...body);
  const reply = $("reply-text");
  if (reply && typed) reply.value = typed;
  if (reply && typing) reply.focus();
  await loadQueue();
  if (focus) $("detail").focus();
}

function actions(conv) {
  const mine = conv.owner === state.rep.id;
  const act = (op, extra = {}) => async () => {
    try {
      await api("POST", `/v1/conversations/${encodeURIComponent(conv.id)}/${op}`, { version: conv.version, ...extra });
      if (extra.text && $("reply-text")) $("reply-text").value = "";  // sent: not a draft any more
      say(`Done: ${op}.`);
    } catch (err) {
      if (err.status === 409 && err.problem.owner) say(`Taken: ${err.problem.owner} has it.`);
      else say(err.message);
    }
    await openConversation(conv.id, false);
  };
  const box = el("div", {});
  const buttons = el("div", { class: "actions" });
  if (!conv.owner && conv.status !== "closed") buttons.append(el("button", { type: "button", onclick: act("claim") }, "Claim"));
  if (mine) {
    buttons.append(el("button", { type: "button", class: "secondary", onclick: act("release") }, "Release"));
    buttons.append(el("button", { type: "button", class: "danger", onclick: act("close") }, "Close"));
  }
  const priority = el("select", { id: "priority", "aria-label": "Priority" },
    ["urgent", "high", "normal", "low"].map((p) => el("option", { value: p, selected: p === conv.priority }, p)));
  buttons.append(el("label", { for: "priority", class: "visually-hidden" }, "Priority"), priority,
    el("button", { type: "button", class: "secondary", onclick: () => act("priority", { priority: priority.value })() }, "Set priority"));
  box.append(buttons);
  if (mine) {
    const reply = el("textarea", { id: "reply-text", rows: 3 });
    box.append(el("div", { class: "compose" },
      el("label", { for: "reply-text" }, "Reply to the customer"), reply,
      el("div", { class: "buttons" },
        el("button", { type: "button", onclick: () => { if (reply.value.trim()) act("replies", { text: reply.value, send: true })(); } }, "Send reply"),
        el("button", { type: "button", class: "secondary", onclick: () => { if (reply.value.trim()) act("notes", { text: reply.value })(); } }, "Add as internal note"))));
  }
  return box;
}

function card(context) {
  const out = [el("h3", {}, "What to know")];
  if (context.flags.length) {
    out.push(el("ul", { class: "flags", "aria-label": "Flags" }, context.flags.map((f) =>
      el("li", { class: `flag${STOP_FLAGS.has(f.code) ? " stop" : ""}` },
        el("strong", {}, FLAG_LABELS[f.code] || f.code), f.reason,
        f.household ? el("span", { class: "muted" }, ` (family account, household ${f.household})`) : null))));
  } else {
    out.push(el("p", { class: "muted" }, "No open complaints, promises, credits or disputes."));
  }
  out.push(...caseLine(context));
  const household = context.household;
  if (household) {
    out.push(el("h3", {}, `Household ${household.id}`));
    out.push(el("ul", {}, household.members.map((m) =>
      el("li", {}, `${m.name} (${m.customer_id}), ${m.role}`, m.customer_id === context.customer_id ? " — this customer" : ""))));
  }
  if (context.preferred_channel) {
    const where = context.preferred_channel_source === "history" ? " (where they write most)" : "";
    out.push(el("p", {}, `Prefers ${context.preferred_channel}${where}.`,
      state.onChannel ? ` This conversation is on ${state.onChannel}` + (state.onChannel === context.preferred_channel ? ", their preferred channel." : ": not their preferred channel.") : ""));
  }
  if (context.active_products.length) {
    out.push(el("p", { class: "muted" }, "Has: ", context.active_products.map((p) => p.name).join(", ")));
  }
  return out;
}

// Which open case the newest message continues, and a way to move it to another or none.
function caseLine(context) {
  const out = [];
  const likely = context.likely_case;
  if (likely) {
    out.push(el("p", { class: "likely-case" },
      el("strong", {}, likely.line.charAt(0).toUpperCase() + likely.line.slice(1)),
      el("span", { class: "muted" }, ` (${likely.evidence.join("; ")})`)));
  }
  if (!state.lastMessage || !context.open_cases.length) return out;
  const choice = el("select", { id: "case-choice" },
    [...context.open_cases.map((c) => el("option", { value: c.case_id, selected: likely && likely.case_id === c.case_id },
      `case ${c.case_id}: ${c.summary || c.category || ""}`)),
    el("option", { value: "", selected: !likely }, "no case")]);
  const move = async () => {
    try {
      await api("PUT", `/v1/messages/${encodeURIComponent(state.lastMessage)}/case`, { case_id: choice.value || null });
      say(choice.value ? `Moved to case ${choice.value}.` : "Tied to no case.");
    } catch (err) { say(err.message); }
    await openConversation(state.current, false);
  };
  out.push(el("div", { class: "actions" },
    el("label", { for: "case-choice" }, "The newest message is about"), choice,
    el("button", { type: "button", class: "secondary", onclick: move }, "Set case")));
  return out;
}

async function candidates(conv) {
  const inbound = conv.log.filter((e) => e.type === "inbound" && e.message_id);
  if (!inbound.length) return [];
  const message = await api("GET", `/v1/messages/${encodeURIComponent(inbound[inbound.length - 1].message_id)}`);
  const sender = message.message.sender;
  const identity = `/v1/identities/${encodeURIComponent(message.message.channel)}/${encodeURIComponent(sender.external_id)}`;
  const res = message.resolution;
  const out = [el("h3", {}, "Who is this?")];
  // What reps decided since the message was resolved: a link, customers ruled out.
  const decided = await api("GET", identity);
  if (decided.link) {
    const linked = decided.link;
    let name = linked.customer_id;
    try { name = `${displayName(await api("GET", `/v1/customers/${encodeURIComponent(linked.customer_id)}`))} (${linked.customer_id})`; }
    catch (err) { /* erased: show the id */ }
    state.linkedName = name;
    out.push(el("p", { class: "outcome" }, `Linked to ${name}`, linked.actor ? ` by ${linked.actor}` : "", ` (${linked.method}).`));
    out.push(...card(await api("GET", `/v1/customers/${encodeURIComponent(linked.customer_id)}/context`)));
    return out;
  }
  if (res.unlinked_because) out.push(el("p", { class: "muted" }, res.unlinked_because));
  if (!res.candidates.length) {
    out.push(el("p", {}, "No candidates: search for the customer above."));
    return out;
  }
  const list = el("div", { class: "candidates" });
  for (const c of res.candidates) {
    let name = c.customer_id;
    try {
      const customer = await api("GET", `/v1/customers/${encodeURIComponent(c.customer_id)}`);
      name = `${displayName(customer)} (${c.customer_id})`;
    } catch (err) { /* erased or gone: show the id */ }
    const outcome = el("p", { class: "outcome", role: "status", hidden: true });
    const undo = (method, path, body, text) => el("button", {
      type: "button", class: "secondary", onclick: async () => {
        try { await api(method, path, body); outcome.textContent = text; }
        catch (err) { say(err.message); }
      },
    }, "Undo");
    const confirm = async () => {
      try {
        await api("PUT", identity, { customer_id: c.customer_id, method: "rep_confirmed", reason: "confirmed in the console" });
        outcome.replaceChildren(`Linked to ${name}. `, undo("DELETE", identity, { reason: "undone in the console" }, "Link undone."));
        outcome.hidden = false;
        // What the rep must know about the customer just confirmed, at once.
        const context = await api("GET", `/v1/customers/${encodeURIComponent(c.customer_id)}/context`);
        outcome.after(...card(context));
      } catch (err) { say(err.message); }
    };
    const reject = async () => {
      try {
        await api("POST", `${identity}/rejections`, { customer_id: c.customer_id, reason: "ruled out in the console" });
        outcome.replaceChildren(`Ruled out: ${name}. `, undo("DELETE", `${identity}/rejections/${encodeURIComponent(c.customer_id)}`, undefined, "Rejection withdrawn."));
        outcome.hidden = false;
      } catch (err) { say(err.message); }
    };
    const ruledOut = decided.rejected.includes(c.customer_id);
    if (ruledOut) {
      outcome.replaceChildren(`Ruled out: ${name}. `, undo("DELETE", `${identity}/rejections/${encodeURIComponent(c.customer_id)}`, undefined, "Rejection withdrawn."));
      outcome.hidden = false;
    }
    list.append(el("div", { class: "candidate", "data-customer": c.customer_id },
      el("strong", {}, name), ` · ${Math.round(c.share * 100)}% of the likelihood`,
      el("table", {},
        el("caption", { class: "visually-hidden" }, `Evidence for ${name}`),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Level"), el("th", { scope: "col" }, "Weight"))),
        el("tbody", {}, c.evidence.map((e) => el("tr", {},
          el("td", {}, e.source ? `${e.field} (${e.source})` : e.field), el("td", {}, e.level), el("td", {}, e.weight.toFixed(1)))))),
      ruledOut ? null : el("div", { class: "buttons" },
        el("button", { type: "button", onclick: confirm }, `Confirm: this is ${name}`),
        el("button", { type: "button", class: "danger", onclick: reject }, "Not this person")),
      outcome));
  }
  out.push(list);
  return out;
}

function displayName(customer) {
  return customer.name || [customer.given_name, customer.family_name].filter(Boolean).join(" ") || customer.id;
}

// -- search -------------------------------------------------------------------------
async function search(q) {
  const found = await api("GET", `/v1/customers/search?q=${encodeURIComponent(q)}`);
  state.current = null;
  $("detail-title").textContent = `Search: ${q}`;
  const items = found.results.map((r) => el("li", {},
    el("button", { type: "button", class: "row", onclick: () => showCustomer(r.customer_id) },
      el("strong", {}, r.name), el("span", { class: "meta" }, `${r.customer_id} · ${Math.round(r.share * 100)}%`))));
  const households = found.households.map((h) => el("li", {},
    `Household ${h.id}: `, h.members.map((m) => `${m.name} (${m.role})`).join(", ")));
  $("detail-body").replaceChildren(
    el("ol", { class: "rows" }, items.length ? items : [el("li", { class: "muted" }, "No customer found.")]),
    households.length ? el("ul", {}, households) : "");
}

async function showCustomer(customerId) {
  const context = await api("GET", `/v1/customers/${encodeURIComponent(customerId)}/context`);
  $("detail-title").textContent = `${context.name} (${customerId})`;
  $("detail-body").replaceChildren(...card(context));
  $("detail").focus();
}

// -- shifts -------------------------------------------------------------------------
async function startShift() {
  await api("POST", `/v1/reps/${encodeURIComponent(state.rep.id)}/shift/start`, {});
  await loadRep();
  say("Shift started.");
}

async function endShift(event) {
  event.preventDefault();
  const to = $("handoff-to").value.trim();
  const note = $("handoff-note").value.trim();
  try {
    const ended = await api("POST", `/v1/reps/${encodeURIComponent(state.rep.id)}/shift/end`,
      { handoff_to: to || null, note: note || null });
    $("end-shift-dialog").close();
    say(`Shift ended: ${ended.handed_off.length} conversation(s) handed to ${ended.to}.`);
    await loadRep();
    await loadQueue();
  } catch (err) { say(err.message); }
}

// -- wiring -------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await signIn($("key").value.trim()); }
    catch (err) { $("sign-in-error").textContent = err.message; }
  });
  $("sign-out").addEventListener("click", signOut);
  $("shift-start").addEventListener("click", () => startShift().catch((e) => say(e.message)));
  $("shift-end").addEventListener("click", () => $("end-shift-dialog").showModal());
  $("end-shift-cancel").addEventListener("click", () => $("end-shift-dialog").close());
  $("end-shift").addEventListener("submit", endShift);
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("search-q").value.trim();
    if (q) search(q).catch((e) => say(e.message));
  });
  const saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved).catch(() => sessionStorage.removeItem(KEY));
});
