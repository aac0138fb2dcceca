using System.Linq;
using HeadTracking.Trainer.Models.Backbones;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

public class BackboneTests
{
    [Theory]
    // torchvision's totals less their 1000-class classifiers. BlazeFace: MediaPipe's graph holds
    // 100,472 initializer values, of which 60 are int64 shape constants and 12,920 belong to the
    // detector's score and box convolutions.
    [InlineData("resnet18", 11_176_512)]
    [InlineData("resnet34", 21_284_672)]
    [InlineData("mobilenetv2", 2_223_872)]
    [InlineData("blazeface", 100_472 - 60 - 12_920)]
    public void Parameter_counts_match_the_reference_architectures(string name, long expected)
    {
        using Backbone b = BackboneRegistry.Create(name);
        Assert.Equal(expected, b.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void BlazeFace_detector_has_every_float_weight_of_the_mediapipe_graph()
    {
        using var net = new HeadTracking.Trainer.Models.BlazeFaceNet();
        Assert.Equal(100_472 - 60, net.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("resnet18", "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias")]
    [InlineData("resnet34", "layer3.5.conv2.weight", "layer4.2.bn2.weight")]
    [InlineData("mobilenetv2", "features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight", "features.1.conv.1.weight", "features.1.conv.2.running_var", "features.2.conv.0.0.weight", "features.2.conv.3.bias", "features.18.0.weight", "features.18.1.bias")]
    public void State_dict_uses_torchvision_names(string name, params string[] keys)
    {
        using Backbone b = BackboneRegistry.Create(name);
        var names = b.state_dict().Keys.ToHashSet();
        foreach (string key in keys)
        {
            Assert.Contains(key, names);
        }
    }

    [Theory]
    [InlineData("blazeface", 128)]
    [InlineData("resnet18", 96)]
    [InlineData("resnet34", 64)]
    [InlineData("mobilenetv2", 96)]
    public void Features_have_the_declared_channels_and_strides(string name, int size)
    {
        using Backbone b = BackboneRegistry.Create(name, size);
        b.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor[] features = b.forward(randn(2, 3, size, size));
        Assert.Equal(b.Features.Count, features.Length);
        for (int i = 0; i < features.Length; i++)
        {
            Assert.Equal(new long[] { 2, b.Features[i].Channels, size / b.Features[i].Stride, size / b.Features[i].Stride }, features[i].shape);
        }
    }
}
