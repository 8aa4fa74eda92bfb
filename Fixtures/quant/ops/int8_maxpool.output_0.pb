J$..B.Ztg8tOO_O}qK}}fnnwnwwwavsav|
<d