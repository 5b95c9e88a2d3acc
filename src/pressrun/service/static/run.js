// Live run progress: poll the run while it is active, reload the page when it ends.
(() => {
  const run = document.querySelector(".run[data-active='true']");
  if (!run) return;
  const bar = run.querySelector(".progress-bar");
  const meter = run.querySelector(".progress");
  const status = run.querySelector("[data-field='status']");
  const count = run.querySelector("[data-field='count']");
  const tick = async () => {
    try {
      const response = await fetch(`/runs/${run.dataset.run}/progress`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.statusText);
      const p = await response.json();
      if (!p.active) { location.reload(); return; }
      status.textContent = p.status;
      status.className = `badge status-${p.status}`;
      count.innerHTML = `<strong>${p.done}</strong> of ${p.total} assets`;
      bar.style.width = p.total ? `${(100 * p.done) / p.total}%` : "0%";
      meter.setAttribute("aria-valuenow", p.done);
      meter.setAttribute("aria-valuemax", p.total);
    } catch (error) { /* a missed poll is retried on the next tick */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
})();
