// A leader's emailed sign-in link: the page posts its own form as soon as it opens, so the link lands on
// the leader's page in one tap. The link is spent by this POST, never by the GET a mail scanner makes;
// with scripts off, the button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-submit-on-load]");
  if (form) form.submit();
});
