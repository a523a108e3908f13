// MathJax 3 for the site (mkdocs.yml loads this file, then MathJax itself). Two kinds of math:
// the Markdown pages' (pymdownx.arithmatex, generic mode: \( \) and \[ \] inside elements of
// class "arithmatex") and the notebooks' Markdown cells (mkdocs-jupyter keeps $...$ and
// $$...$$ as written, in paragraphs and lists inside an element of class
// "jp-RenderedMarkdown"). MathJax skips every element with a class but those two, and what is
// inside a skipped element unless it is one of them; an element without a class is treated as
// its parent is. So the math is typeset, and code, program output and the rest of a page are
// left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown",
  },
};

// Typeset again whenever Material for MkDocs shows a page (its document$ observable).
document$.subscribe(() => {
  if (typeof MathJax.typesetPromise !== "function") {
    return; // MathJax not loaded yet: its start-up typesets the page
  }
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
