def greet(name):
    return "Hola, " + name


GREETING = greet("mundo")
