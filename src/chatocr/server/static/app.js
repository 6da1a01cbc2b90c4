// chatocr web UI: a plain client of the public JSON API (POST /v1/jobs, GET /v1/jobs/{id}, page images).
// No framework and no build step; see chatocr/server/__init__.py for why.
"use strict";

const NOT_FOUND = "未找到相关信息"; // shown for null values (chatocr.result.NOT_FOUND_ZH)
const SVG_NS = "http://www.w3.org/2000/svg";
const POLL_MS = 400;

const state = { job: null, result: null, document: null, edits: {}, fileName: "", objectUrls: [] };
const $ = (id) => document.getElementById(id);

function apiHeaders() {
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem("chatocr-api-key", key);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...apiHeaders(), ...(options.headers || {}) } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body.error) message = `${body.error.message} [${body.error.code}]`;
    } catch (_) { /* not JSON */ }
    if (response.status === 401) $("key-box").open = true;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

function setStatus(text, { error = false, progress = null } = {}) {
  const box = $("status");
  box.replaceChildren();
  box.classList.toggle("error", error);
  if (!text) return;
  const line = document.createElement("div");
  line.textContent = text;
  box.append(line);
  if (progress !== null) {
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = progress;
    box.append(bar);
  }
}

async function loadChoices() {
  try {
    const health = await (await fetch("/healthz")).json();
    const select = $("backend");
    select.replaceChildren();
    for (const name of health.backends) select.add(new Option(name, name, name === health.default_backend));
    $("backend-row").hidden = health.backends.length < 2;
    if (health.auth && !$("api-key").value) {
      $("key-box").open = true;
      setStatus("This server needs an API key: enter it under “API key”.");
      return;
    }
  } catch (_) { /* healthz is informative only */ }
  try {
    const { templates } = await (await api("/v1/templates")).json();
    const select = $("template");
    select.replaceChildren();
    for (const t of templates) {
      const option = new Option(`${t.name} — ${t.fields.join("、")}`, t.name);
      option.title = t.description;
      select.add(option);
    }
    setStatus("");
  } catch (err) {
    setStatus(`Could not load templates: ${err.message}`, { error: true });
  }
}

async function submit(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  const form = new FormData();
  form.append("file", file);
  if (mode === "ocr") form.append("kind", "ocr");
  else if (mode === "template") form.append("template", $("template").value);
  else form.append("fields", $("fields").value);
  if (!$("backend-row").hidden) form.append("backend", $("backend").value);

  await forgetCurrent();
  state.fileName = file.name;
  $("run").disabled = true;
  setStatus("上传中 Uploading…", { progress: 0 });
  try {
    const { id } = await (await api("/v1/jobs", { method: "POST", body: form })).json();
    state.job = id;
    const job = await poll(id);
    if (job.status === "failed") throw new Error(`${job.error.message} [${job.error.code}]`);
    await show(job);
    setStatus("");
  } catch (err) {
    setStatus(err.message, { error: true });
  } finally {
    $("run").disabled = false;
  }
}

async function poll(id) {
  for (;;) {
    const job = await (await api(`/v1/jobs/${id}`)).json();
    if (job.status === "done" || job.status === "failed") return job;
    setStatus(`${job.status === "queued" ? "排队中 Queued" : "处理中 Working"}: ${job.stage}`, { progress: job.progress });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function show(job) {
  state.document = job.document;
  state.result = job.kind === "extract" ? job.result : null;
  state.edits = {};
  renderFields();
  await renderPages(job);
  document.body.dataset.ready = "true";
}

function renderFields() {
  const body = $("field-table").querySelector("tbody");
  body.replaceChildren();
  $("results").hidden = false;
  $("field-table").hidden = !state.result;
  $("download-csv").hidden = !state.result;
  if (!state.result) return;
  for (const [name, field] of Object.entries(state.result.fields)) {
    const row = document.createElement("tr");
    row.className = "field-row";
    row.dataset.field = name;
    const nameCell = document.createElement("td");
    nameCell.className = "name";
    nameCell.textContent = name;
    const valueCell = document.createElement("td");
    const input = document.createElement("input");
    input.className = "value";
    input.type = "text";
    input.value = field.value ?? "";
    input.placeholder = NOT_FOUND;
    input.setAttribute("aria-label", name);
    input.classList.toggle("missing", field.value === null);
    input.addEventListener("input", () => {
      state.edits[name] = input.value;
      input.classList.add("edited");
      input.classList.toggle("missing", input.value === "");
    });
    valueCell.append(input);
    const confCell = document.createElement("td");
    confCell.className = "conf";
    confCell.textContent = field.value === null ? "" : Number(field.confidence).toFixed(2);
    row.append(nameCell, valueCell, confCell);
    row.addEventListener("mouseenter", () => highlight(name, false));
    row.addEventListener("mouseleave", () => highlight(null, false));
    row.addEventListener("click", () => highlight(name, true));
    body.append(row);
  }
}

async function renderPages(job) {
  const container = $("pages");
  container.replaceChildren();
  for (const url of state.objectUrls) URL.revokeObjectURL(url);
  state.objectUrls = [];
  const fields = state.result ? Object.entries(state.result.fields) : [];
  for (const [index, page] of state.document.pages.entries()) {
    const wrapper = document.createElement("div");
    wrapper.className = "page";
    wrapper.dataset.page = page.page;
    const img = document.createElement("img");
    img.alt = `page ${page.page}`;
    // Fetched with the API key, then shown from a blob URL (an <img src> cannot send headers).
    const blob = await (await api(job.page_images[index])).blob();
    const url = URL.createObjectURL(blob);
    state.objectUrls.push(url);
    img.src = url;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${page.width} ${page.height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    for (const line of page.lines) {
      const poly = polygon(line.box, "ocr-box");
      const title = document.createElementNS(SVG_NS, "title");
      title.textContent = line.text;
      poly.append(title);
      svg.append(poly);
    }
    for (const [name, field] of fields) {
      if (!field.box || field.page !== page.page) continue;
      const poly = polygon(field.box, "field-box");
      poly.dataset.field = name;
      const title = document.createElementNS(SVG_NS, "title");
      title.textContent = name;
      poly.append(title);
      poly.addEventListener("mouseenter", () => highlight(name, false));
      poly.addEventListener("mouseleave", () => highlight(null, false));
      poly.addEventListener("click", () => highlight(name, true));
      svg.append(poly);
    }
    const label = document.createElement("span");
    label.className = "page-label";
    label.textContent = `${page.page} / ${state.document.pages.length}`;
    wrapper.append(img, svg, label);
    container.append(wrapper);
  }
}

function polygon(box, className) {
  const poly = document.createElementNS(SVG_NS, "polygon");
  poly.setAttribute("points", box.map(([x, y]) => `${x},${y}`).join(" "));
  poly.setAttribute("class", className);
  return poly;
}

function highlight(name, scroll) {
  for (const el of document.querySelectorAll(".field-box.active, .field-row.active")) el.classList.remove("active");
  if (!name) return;
  const selector = `[data-field="${CSS.escape(name)}"]`;
  for (const el of document.querySelectorAll(`.field-box${selector}, .field-row${selector}`)) el.classList.add("active");
  if (scroll) {
    const box = document.querySelector(`.field-box${selector}`);
    if (box) box.scrollIntoView({ block: "center", behavior: "smooth" });
  }
}

function editedResult() {
  const out = structuredClone(state.result);
  for (const [name, value] of Object.entries(state.edits)) {
    out.fields[name].value = value === "" ? null : value;
    out.fields[name].edited = true;
  }
  return out;
}

function baseName() {
  return (state.fileName || "document").replace(/\.[^.]+$/, "");
}

function download(content, type, name) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function downloadJson() {
  const data = state.result ? editedResult() : state.document;
  download(JSON.stringify(data, null, 2), "application/json", `${baseName()}.json`);
}

function downloadCsv() {
  if (!state.result) return;
  const result = editedResult();
  const names = Object.keys(result.fields);
  const header = ["file", ...names].map(csvCell).join(",");
  const row = [result.file || state.fileName, ...names.map((n) => result.fields[n].value)].map(csvCell).join(",");
  // A byte-order mark so spreadsheet programs read the Chinese text as UTF-8.
  download(`\ufeff${header}\r\n${row}\r\n`, "text/csv;charset=utf-8", `${baseName()}.csv`);
}

async function forgetCurrent() {
  if (!state.job) return;
  const id = state.job;
  state.job = null;
  try {
    await api(`/v1/jobs/${id}`, { method: "DELETE" });
  } catch (_) { /* already expired */ }
}

async function forgetAndClear() {
  await forgetCurrent();
  state.result = state.document = null;
  $("results").hidden = true;
  $("pages").replaceChildren();
  delete document.body.dataset.ready;
  setStatus("已从服务器删除 Removed from the server.");
}

window.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = sessionStorage.getItem("chatocr-api-key") || "";
  $("upload-form").addEventListener("submit", submit);
  $("download-json").addEventListener("click", downloadJson);
  $("download-csv").addEventListener("click", downloadCsv);
  $("forget").addEventListener("click", forgetAndClear);
  $("fields").addEventListener("focus", () => { document.querySelector("input[name=mode][value=fields]").checked = true; });
  $("template").addEventListener("change", () => {
    document.querySelector("input[name=mode][value=template]").checked = true;
  });
  $("api-key").addEventListener("change", loadChoices);
  loadChoices();
});
