import unittest

from pager import page_count, paginate


class PageCountTest(unittest.TestCase):
    def test_exact_multiple(self):
        self.assertEqual(page_count(30, 10), 3)

    def test_partial_last_page(self):
        self.assertEqual(page_count(31, 10), 4)

    def test_fewer_items_than_a_page(self):
        self.assertEqual(page_count(3, 10), 1)

    def test_no_items(self):
        self.assertEqual(page_count(0, 10), 0)

    def test_rejects_bad_arguments(self):
        with self.assertRaises(ValueError):
            page_count(10, 0)
        with self.assertRaises(ValueError):
            page_count(-1, 10)


class PaginateTest(unittest.TestCase):
    def test_first_page(self):
        page = paginate(list(range(25)), 1, per_page=10)
        self.assertEqual(page.items, list(range(10)))
        self.assertTrue(page.has_next)
        self.assertFalse(page.has_previous)

    def test_last_partial_page(self):
        page = paginate(list(range(25)), 3, per_page=10)
        self.assertEqual(page.items, [20, 21, 22, 23, 24])
        self.assertEqual(page.total_pages, 3)
        self.assertFalse(page.has_next)

    def test_out_of_range(self):
        with self.assertRaises(IndexError):
            paginate(list(range(5)), 2, per_page=10)

    def test_empty_sequence_first_page(self):
        page = paginate([], 1)
        self.assertEqual(page.items, [])
        self.assertEqual(page.total_pages, 0)


if __name__ == "__main__":
    unittest.main()
