"""Notebooks and publications for tests of the dashboards registry and its Voila."""

import nbformat


def notebook(text="print('hello')") -> str:
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_markdown_cell("# A twin\nIt forecasts."),
        nbformat.v4.new_code_cell(text),
    ]
    return nbformat.writes(book)


def publish(registry, slug="river", owner="ada", groups=("dt-users",), **fields):
    return registry.publish(
        slug,
        fields.pop("content", notebook()),
        title=fields.pop("title", "River"),
        owner=owner,
        groups=list(groups),
        **fields,
    )
