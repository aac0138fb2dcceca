using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Tests;

public class TorchSharpTests
{
    [Fact]
    public void Small_conv_net_trains_and_its_loss_falls()
    {
        torch.manual_seed(1234);
        torch.set_num_threads(1);

        // Task: regress the (x, y) centre of a bright square in a 16x16 image, as in the Biwi
        // head-centre experiment but tiny.
        const int n = 64;
        using var scope = NewDisposeScope();
        var images = zeros(n, 1, 16, 16);
        var targets = zeros(n, 2);
        var rng = new Random(7);
        for (int i = 0; i < n; i++)
        {
            int cx = rng.Next(2, 14), cy = rng.Next(2, 14);
            images[i, 0, TensorIndex.Slice(cy - 2, cy + 2), TensorIndex.Slice(cx - 2, cx + 2)] = 1f;
            targets[i, 0] = (cx / 8f) - 1f;
            targets[i, 1] = (cy / 8f) - 1f;
        }

        var model = Sequential(
            Conv2d(1, 8, 3, padding: 1), ReLU(), MaxPool2d(2),
            Conv2d(8, 16, 3, padding: 1), ReLU(), MaxPool2d(2),
            Flatten(), Linear(16 * 4 * 4, 2), Tanh());
        var optimizer = optim.Adam(model.parameters(), lr: 0.01);

        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = functional.mse_loss(model.forward(images), targets);
            loss.backward();
            optimizer.step();
            float value = loss.item<float>();
            if (step == 0)
            {
                first = value;
            }

            last = value;
        }

        Assert.True(float.IsFinite(last), $"loss is {last}");
        Assert.True(last < first * 0.2f, $"loss fell only from {first} to {last}");
    }

    [Fact]
    public void Native_library_loads_and_computes()
    {
        using var a = tensor(new float[] { 1, 2, 3 });
        using var b = a.mul(2).sum();
        Assert.Equal(12f, b.item<float>());
        Assert.Equal(DeviceType.CPU, a.device_type);
    }
}
