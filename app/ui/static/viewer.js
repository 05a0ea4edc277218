// Page viewer and keys: zoom, the selected field's box, click a word to fill the selected field.
// Runs as the viewer component's js_on_load (`element` is the viewer); page-wide listeners are added once.
const root = window;
root.invoiceOcr = root.invoiceOcr || { zoom: 1, field: null };
const ui = root.invoiceOcr;

function fieldInputs() {
  return Array.from(document.querySelectorAll("[id^='field-'] input, [id^='field-'] textarea"))
    .filter((e) => e.offsetParent !== null);
}

function fieldOf(input) {
  const block = input && input.closest("[id^='field-']");
  return block ? block.id : null;
}

function applyZoom() {
  const sheet = element.querySelector(".pv-sheet");
  if (sheet) sheet.style.width = Math.round(ui.zoom * 100) + "%";
}

function markSelected(scroll) {
  element.querySelectorAll(".pv-box.sel").forEach((b) => b.classList.remove("sel"));
  if (!ui.field) return;
  const box = element.querySelector(".pv-box[data-elem='" + ui.field + "']");
  if (!box) return;
  box.classList.add("sel");
  if (scroll) box.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function fill(text, append) {
  const input = ui.field && document.querySelector("#" + ui.field + " input, #" + ui.field + " textarea");
  if (!input) return false;
  const value = append && input.value ? input.value + " " + text : text;
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), "value").set;
  setter.call(input, value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.classList.add("pv-filled");
  setTimeout(() => input.classList.remove("pv-filled"), 700);
  return true;
}

element.addEventListener("click", (event) => {
  const zoom = event.target.closest(".pv-zoom");
  if (zoom) {
    const step = Number(zoom.dataset.zoom);
    ui.zoom = step === 0 ? 1 : Math.min(3, Math.max(0.5, ui.zoom + step * 0.25));
    applyZoom();
    return;
  }
  const word = event.target.closest(".pv-word");
  if (word && !fill(word.dataset.text, event.shiftKey)) {
    const note = element.querySelector(".pv-note");
    if (note) note.textContent = "Click into a field first, then on a word to fill it.";
  }
});

watch("value", () => {
  applyZoom();
  markSelected(true);
});
applyZoom();
markSelected(false);

if (!ui.keys) {
  ui.keys = true;
  document.addEventListener("focusin", (event) => {
    const id = fieldOf(event.target);
    if (!id) return;
    ui.field = id;
    const viewer = document.querySelector("#page-viewer");
    if (!viewer) return;
    viewer.querySelectorAll(".pv-box.sel").forEach((b) => b.classList.remove("sel"));
    const box = viewer.querySelector(".pv-box[data-elem='" + id + "']");
    if (box) {
      box.classList.add("sel");
      box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });
  const click = (id) => {
    const button = document.querySelector("#" + id);
    if (button && !button.disabled) button.click();
    return Boolean(button);
  };
  document.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      const inputs = fieldInputs();
      const at = inputs.indexOf(document.activeElement);
      const next = inputs[(at + (event.key === "ArrowDown" ? 1 : inputs.length - 1)) % inputs.length];
      if (next) next.focus();
      event.preventDefault();
    } else if (event.altKey && (event.key === "PageDown" || event.key === "ArrowRight")) {
      click("next-page");
      event.preventDefault();
    } else if (event.altKey && (event.key === "PageUp" || event.key === "ArrowLeft")) {
      click("prev-page");
      event.preventDefault();
    } else if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      if (document.activeElement) document.activeElement.blur(); // the typed value is sent first
      setTimeout(() => click("approve-next-btn") || click("approve-btn"), 150);
      event.preventDefault();
    } else if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
      if (document.activeElement) document.activeElement.blur();
      setTimeout(() => click("save-btn"), 150);
      event.preventDefault();
    }
  });
}
