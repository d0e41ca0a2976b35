"""The floor: the fastest a Flask page can be served on this machine and these settings.

A bare Flask app with one route that renders a trivial Jinja template, loaded and
compiled once as any Flask app's templates are (render_template_string would compile it
again on every request, a cost no real page pays, and flatter every ratio). bench/run.py
serves it with exactly the gunicorn settings of the portal and loads it with the same
client, so a portal page's requests per second divided by the floor's says how much of
the machine's capacity for "a Flask response" the page's own work (queries, slot
arithmetic, a bigger template) costs. 1.0 would be free; 0.5 is half the floor.

    gunicorn -w 2 -b 127.0.0.1:8001 --chdir bench floor:app
"""

from flask import Flask, render_template
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
  <h1>{{ title }}</h1>
  <ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
</body>
</html>
"""

app = Flask(__name__)
app.jinja_loader = DictLoader({"floor.html": PAGE})


@app.get("/")
def index():
    return render_template("floor.html", title="Floor", items=range(5))
