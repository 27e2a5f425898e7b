# The README's two commands: `make sim` and `make test`. Both build .venv on first use.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PACKAGES := safevla_common thor_sim_bridge safevla_policy safe_monitor safevla
SETUPS := $(foreach p,$(PACKAGES),ros2_ws/src/$(p)/setup.py)

# The default run: the committed small ObjectNav checkpoint (docs/training.md) in the one-room houses it
# was trained on, sampling its actions. BACKEND=expert TASK=all ROOMS="2 4" runs the simulator's expert
# on all three tasks.
EPISODES ?= 3
BACKEND ?= model
CHECKPOINT ?= checkpoints/objectnav_small
TASK ?= ObjectNav
ROOMS ?= 1 1
SAMPLING ?= sample
SIM_ARGS ?=
PYTEST_ARGS ?=

# The loopback rule also holds for anything make starts directly.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= 42

.PHONY: venv sim test test-fast bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt $(SETUPS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat $(foreach p,$(PACKAGES),-e ros2_ws/src/$(p))
	touch $@

sim: venv
	$(VENV)/bin/safevla-sim --episodes $(EPISODES) --backend $(BACKEND) --task $(TASK) --rooms $(ROOMS) --sampling $(SAMPLING) \
		$(if $(filter expert,$(BACKEND)),,--checkpoint $(CHECKPOINT)) $(SIM_ARGS)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: venv
	$(PY) benchmarks/estop_latency.py

clean:
	rm -rf $(VENV) runs
