// Loaded before the page is drawn: says that scripts run, so the stylesheet may put the phone
// navigation behind its Menu button (without scripts, it stays in view).
document.documentElement.classList.add("js");
