import unittest

from greet import greet


class GreetTest(unittest.TestCase):
    def test_greets(self):
        self.assertEqual(greet("Ana"), "Hola, Ana")
