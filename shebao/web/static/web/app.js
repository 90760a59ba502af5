// Site script (served as a file: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // WeChat's in-app browser exposes the user's font scale; follow it (WeUI pattern).
  try {
    if (window.__wxWebEnv && window.__wxWebEnv.getEnv) {
      var scale = JSON.parse(window.__wxWebEnv.getEnv()).fontScale;
      if (scale) { document.body.style.webkitTextSizeAdjust = scale + "%"; }
    }
  } catch (e) { /* outside WeChat: nothing to do */ }
  // A submit button pressed once is disabled until the page changes (no double posts).
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (btn && btn.dataset.once !== undefined) {
      setTimeout(function () { btn.disabled = true; btn.setAttribute("aria-busy", "true"); }, 0);
    }
  });
})();
