// <script type="module">: the ES module build imported from its CDN-style path, no bundler.
import * as gl from './cdn/gradlab/dist/browser/gradlab.min.js';

window.__result = trainStep(gl);
