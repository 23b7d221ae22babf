// The articles table page: hide machine-only columns unless the URL picks columns itself
// (_col / _nocol; the JSON API always has every column), and highlight the ?_search= terms.
// The server already returns exactly the matching rows; highlighting only marks where.
var DANGJIAN_MACHINE_COLUMNS = ["url", "title_original", "text_original", "encoding", "flags",
  "content_hash", "page_id", "run_id", "first_seen", "last_seen", "cluster_id", "revision"];

function dangjianCompact() {
  var params = new URLSearchParams(window.location.search);
  if (params.has("_col") || params.has("_nocol")) { return; }
  DANGJIAN_MACHINE_COLUMNS.forEach(function (name) {
    document.querySelectorAll("table.rows-and-columns .col-" + name).forEach(function (el) {
      el.classList.add("dangjian-machine");
    });
  });
}

function dangjianHighlight() {
  var params = new URLSearchParams(window.location.search);
  var query = params.get("_search") || params.get("_search_title") || params.get("_search_text");
  if (!query) { return; }
  var terms = [];
  var re = /(-?)"([^"]*)"?|(\S+)/g, m;
  while ((m = re.exec(query)) !== null) {
    if (m[3] !== undefined) {
      if (m[3] === "OR" || (m[3].charAt(0) === "-" && m[3].length > 1)) { continue; }
      terms.push(m[3]);
    } else if (!m[1] && m[2]) { terms.push(m[2]); }
  }
  if (!terms.length) { return; }
  terms.sort(function (a, b) { return b.length - a.length; });
  var escaped = terms.map(function (t) { return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
  var pattern = new RegExp(escaped.join("|"), "gi");
  document.querySelectorAll("td.col-title, td.col-text").forEach(function (cell) {
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    nodes.forEach(function (node) {
      var text = node.nodeValue;
      pattern.lastIndex = 0;
      if (!pattern.test(text)) { return; }
      pattern.lastIndex = 0;
      var frag = document.createDocumentFragment(), last = 0, hit;
      while ((hit = pattern.exec(text)) !== null) {
        frag.appendChild(document.createTextNode(text.slice(last, hit.index)));
        var mark = document.createElement("mark");
        mark.textContent = hit[0];
        frag.appendChild(mark);
        last = hit.index + hit[0].length;
      }
      frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    });
  });
}
// The articles table has some 35 described columns: fold their descriptions away so the
// rows come first (one click opens them).
function dangjianFoldColumnDescriptions() {
  var list = document.querySelector("dl.column-descriptions");
  if (!list || list.parentNode.tagName === "DETAILS") { return; }
  var details = document.createElement("details");
  details.className = "dangjian-columns";
  var summary = document.createElement("summary");
  summary.textContent = "Column descriptions";
  details.appendChild(summary);
  list.parentNode.insertBefore(details, list);
  details.appendChild(list);
}

function dangjianReady() {
  dangjianFoldColumnDescriptions();
  dangjianCompact();
  dangjianHighlight();
}
// Loaded in <head>: wait for the table to exist.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", dangjianReady);
} else {
  dangjianReady();
}
