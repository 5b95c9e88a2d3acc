// "Copy link": copy the page URL and count the share.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(button.dataset.copy); } catch (error) { prompt("Copy this link", button.dataset.copy); }
    fetch(button.dataset.track, { keepalive: true });
    const label = button.textContent;
    button.textContent = "Link copied";
    setTimeout(() => { button.textContent = label; }, 2000);
  });
});
