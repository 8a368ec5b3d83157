module continuum.example/continuum

go 1.19
