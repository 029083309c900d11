# The katibsim image: the CLI, and the Dask scheduler and workers of `katibsim compare --scheduler`
# (docs/scale.md). Client and workers must run the same build: a comparison refuses to mix code.
#   docker build -t katibsim:0.1.0 .
FROM python:3.11-slim
WORKDIR /opt/katibsim
COPY pyproject.toml constraints.txt README.md ./
COPY katibsim ./katibsim
COPY plugins ./plugins
# A regular (not editable) install of the pinned versions; the source copy is not used after it.
RUN pip install --no-cache-dir -c constraints.txt '.[dask]' && rm -rf /opt/katibsim
WORKDIR /data
CMD ["katibsim", "--help"]
