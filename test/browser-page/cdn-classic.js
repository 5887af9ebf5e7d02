// A classic <script> after <script src="…/gradlab.iife.min.js">: the IIFE build's global `gradlab`.
window.__result = trainStep(gradlab);
