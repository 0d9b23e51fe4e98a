"""The Playground's families: small models on 2-D points (genlab.data.points2d), trained by the one
loop (genlab.train.loop.train) like every other family, but kept out of genlab.registry.FAMILIES,
the digit and text families that the CLI, the Train tab and the shipped-weights tests go through."""

from genlab.models.base import Family, TrainConfig
from genlab.models.playground.flow import PointFlow, PointFlowConfig
from genlab.models.playground.gan import PointGAN, PointGANConfig
from genlab.models.playground.vae import PointVAE, PointVAEConfig

MAX_STEPS = 100_000  # steps one playground model may take before it must be reset

# steps is the loop's total (a play session ends at MAX_STEPS); Adam betas of DCGAN (Radford et al. 2016) for
# the GAN, whose two players chase each other and do worse with a long momentum
PLAYGROUND_FAMILIES = {
    "gan": Family(name="gan", title="GAN", output="points", model_cls=PointGAN, config_cls=PointGANConfig,
                  data="points2d", conditional=False,
                  recipe=TrainConfig(steps=MAX_STEPS, batch_size=128, lr=2e-3, beta1=0.5, beta2=0.99),
                  recipe_help={"lr": "the generator's learning rate (D's is d_lr_scale times this)"},
                  loss_names={"d_loss": "D loss", "g_loss": "G loss"}),
    "vae": Family(name="vae", title="VAE", output="points", model_cls=PointVAE, config_cls=PointVAEConfig,
                  data="points2d", conditional=False,
                  recipe=TrainConfig(steps=MAX_STEPS, batch_size=128, lr=3e-3),
                  loss_names={"loss": "-ELBO", "reconstruction": "reconstruction", "kl": "KL"}),
    "flow": Family(name="flow", title="Flow matching", output="points", model_cls=PointFlow,
                   config_cls=PointFlowConfig, data="points2d", conditional=False,
                   recipe=TrainConfig(steps=MAX_STEPS, batch_size=256, lr=3e-3),
                   loss_names={"loss": "flow matching loss"}),
}
