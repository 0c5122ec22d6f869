from medgauge.prompts.templates import PromptTemplate, register, render, resolve, templates

__all__ = ["PromptTemplate", "register", "render", "resolve", "templates"]
