// creditd console: progressive enhancement only. Every page works without
// this script; with it, the draw wizard makes the seed in the browser.
"use strict";
(function () {
  function hex(buf) {
    return Array.from(new Uint8Array(buf), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function unhex(s) {
    var out = new Uint8Array(s.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }
  // The commitment is the SHA-256 of the seed's bytes (draw.md).
  function commit(seedHex) {
    return crypto.subtle.digest("SHA-256", unhex(seedHex)).then(hex);
  }
  // Allocation mode: show the fields of the chosen mode.
  function modes() {
    var checked = document.querySelector("input[name=mode]:checked");
    document.querySelectorAll(".tiers[data-mode]").forEach(function (el) {
      el.hidden = checked && el.getAttribute("data-mode") !== checked.value;
    });
  }
  document.querySelectorAll("input[name=mode]").forEach(function (el) { el.addEventListener("change", modes); });
  modes();

  var make = document.getElementById("make-seed");
  if (make) {
    make.addEventListener("click", function () {
      var seed = new Uint8Array(32);
      crypto.getRandomValues(seed);
      var s = hex(seed);
      commit(s).then(function (c) {
        document.getElementById("seed-show").value = s;
        document.getElementById("commitment").value = c;
        try { sessionStorage.setItem("creditd-seed:" + c, s); } catch (e) { /* private mode: the download keeps it */ }
        var dl = document.getElementById("seed-download");
        var plan = document.querySelector("#plan_id");
        var text = "creditd draw seed\nplan: " + (plan ? plan.value : "") + "\nseed: " + s + "\nsha256(seed): " + c + "\n";
        dl.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
        dl.download = "seed-" + c.slice(0, 12) + ".txt";
        dl.hidden = false;
      });
    });
  }
  // The run step: the seed kept in this browser fills the field; a seed
  // whose SHA-256 is not the registered commitment is marked invalid, so
  // the form does not submit it.
  var seed = document.getElementById("seed");
  if (seed && seed.dataset.commitment) {
    var check = function () {
      var v = seed.value.trim().toLowerCase();
      if (!/^([0-9a-f]{2}){16,}$/.test(v)) { seed.setCustomValidity(""); return; }
      commit(v).then(function (c) {
        seed.setCustomValidity(c === seed.dataset.commitment ? "" : "SHA-256 ≠ commitment");
      });
    };
    var kept = null;
    try { kept = sessionStorage.getItem("creditd-seed:" + seed.dataset.commitment); } catch (e) { kept = null; }
    if (kept && !seed.value) seed.value = kept;
    seed.addEventListener("input", check);
    check();
  }
})();
