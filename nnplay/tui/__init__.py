"""The Textual playground: the only package that imports Textual."""
