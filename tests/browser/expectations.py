"""Key outputs of each page's cells after "Run all" in the browser.

``EXPECTED[page][cell number]`` lists strings the cell's live output must contain (cells are
numbered from 1 in page order; the page is its URL path, ``""`` for the home page). A page with
cells but no entry here is still run and every cell must finish; add the strings that prove it
computed the right thing (a printed shape, an accuracy line...). ``RICH[page]`` lists cells that
must show a rich (SVG/HTML) output.
"""

from __future__ import annotations

EXPECTED: dict[str, dict[int, list[str]]] = {
    "dropout/": {
        2: ["expected, p·(w·h):      0.605", "mean of 100,000 draws:"],
        3: ["no dropout: train 1.000", "dropout: train"],
        4: ["no dropout: test accuracy", "dropout: test accuracy"],
        5: ["p*h: 0.2400"],
        6: ["lowest test loss", "test loss after the last epoch"],
    },
    "thinning/": {
        3: ["identical: True"],
        5: ["True"],
        6: ["[0.5 0.  0.5]"],
        7: ["thinned: [0.6484 0.3134]  silenced: [0.6484 0.3134]"],
    },
    "numpy-steps/": {
        2: ["7 active inputs:", "(5, 10) -> (5, 7)"],
        3: ["who: (7, 5) -> (7, 3)", "wih: (5, 10) -> (3, 7)"],
        5: ["columns kept: [ 0  1  3  6  7  8  9 10]"],
        6: ["keep 0.2: wih (1, 2), who (7, 1)", "keep 1.0: wih (5, 10), who (7, 5)"],
        7: ["the same sub-matrix in all 20 draws"],
        8: ["the bias column survived all 100 thinnings"],
    },
    "network-class/": {
        1: ["dropout_py: mean 0.151", "scipy: mean 0.151"],
        2: ["init= 'chapter': hidden outputs from 1.000 to 1.000"],
        3: ["thinned: (3, 4) (3, 4)"],
        4: ["def dropout_weight_matrices(", "def weight_matrices_reset("],
        6: ["backprop='gradient': test accuracy after each epoch 0.100 0.100 0.100"],
        7: ["(54000, 60000)]", "(100, 103)]"],
        9: ["ValueError: active_input_percentage must be in (0, 1], got 70"],
        10: ["backprop='gradient': largest difference", "backprop= 'chapter'"],
        12: ["wih entries trained: 9 of 30"],
    },
    "mnist/": {
        1: ["training images: (10000, 784) uint8", "[1000 1000 1000"],
        2: ["pixels now from 0.01 to 1.0"],
        3: ["epoch 3:", "test: accuracy 0.8"],
        7: ["without dropout: test accuracy", "with dropout: test accuracy"],
        8: ["epoch 3:", "test accuracy 0.97"],  # all 60,000 images, trained in the page
        9: ["test accuracy 0.97"],
        10: ["0 and 255 become [0.01 1.  ]"],
        12: ["keep 0.5: test accuracy", "keep 1: test accuracy"],
    },
    "fast-trainer/": {
        1: ["input at test time, all nodes on: 9.9"],
        2: ["epoch 5:", "Evaluation(accuracy=0.8"],
        3: ["paper's scheme: final test accuracy"],
        4: ["kept nodes per example:"],
        5: ["layer 0: largest difference", "layer 1: largest difference"],
    },
    "speed/": {
        1: ["multiply-adds per step: 5113600"],
        2: ["batch 32: 32 steps", "batch 128: 8 steps"],
    },
    "native/": {
        1: ["left the loop at step 7 of 20", "the same weights as one uninterrupted run"],
        2: ["DropoutMLP(784-100-10"],
    },
    "ablation/": {
        1: ["no dropout: test accuracy", "paper 2014: test accuracy"],
        2: ["keep_hidden=0.3: test accuracy", "keep_hidden=1.0: test accuracy"],
    },
}

RICH: dict[str, list[int]] = {
    "": [1],
    "dropout/": [1, 2, 3, 4],
    "thinning/": [2, 4],
    "numpy-steps/": [4],
    "network-class/": [3],
    "mnist/": [1, 4, 5, 6, 8, 9],
    "fast-trainer/": [3],
    "ablation/": [1, 2],
}
