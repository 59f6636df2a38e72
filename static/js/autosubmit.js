// A <select data-autosubmit> sends its form as soon as it changes (the language menu, the
// casebook's kind filter). In a file of its own: the Content-Security-Policy allows no
// inline handlers.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
