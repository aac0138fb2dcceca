using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Models.Heads.Kinds;
using TorchSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>The head-kind registry against the contract: every kind the trainer builds is one the
/// manifest vocabulary names, and the module it builds describes its output by that name.</summary>
public sealed class HeadKindTests
{
    [Fact]
    public void Every_registered_kind_builds_a_head_that_describes_its_output_kind()
    {
        Assert.Equal(OutputKinds.Heads, HeadKinds.Names);
        torch.manual_seed(3);
        using Backbone backbone = BackboneRegistry.Create("blazeface", 0);
        foreach (HeadKind kind in HeadKinds.All)
        {
            HeadConfig config = HeadConfig.Of(kind.Name, classes: ["a", "b"], maskStride: 4, maskWidth: 8, values: (["v"], [0f], [1f]));
            new ModelConfig { Heads = [config] }.Validate("test");
            using var head = kind.Create(config, backbone, new TrunkSize());
            Assert.Equal(kind.OutputKind, head.Describe().Kind);
            Assert.Same(kind, HeadKinds.Of(kind.Name));
            Assert.Equal(kind.Name, OutputKinds.HeadOf(kind.OutputKind));
        }

        Assert.Contains("known: center, keypoints", Assert.Throws<System.ArgumentException>(() => HeadKinds.Of("ears")).Message);
    }
}
