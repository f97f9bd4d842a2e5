"""SavedModel export with serving signatures, written atomically.

The exported model needs TensorFlow only: ``tf.saved_model.load`` in a
process that never imports tfp_physflow (or TFP) can call it, and so can
``saved_model_cli`` and TF Serving. ``modules`` holds what is exported,
``saving`` how it is written; ``posterior_module`` the circuit posterior and its loader.
"""

from .modules import (ClassifierModule, ConditionalSamplerModule, FlowModule, PhysicsFlowModule, export_classifier,
                      export_conditional_sampler, export_flow, export_physics_flow)
from .posterior_module import (CircuitPosteriorModule, ServedPosterior, export_circuit_posterior,
                               load_circuit_posterior)
from .saving import save_module

__all__ = ["CircuitPosteriorModule", "ServedPosterior", "export_circuit_posterior", "load_circuit_posterior",
           "ClassifierModule", "ConditionalSamplerModule", "FlowModule", "PhysicsFlowModule", "export_classifier",
           "export_conditional_sampler", "export_flow", "export_physics_flow", "save_module"]
