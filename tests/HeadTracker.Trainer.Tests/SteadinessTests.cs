using System;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Pose;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Data.Loaders;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary><c>train --steady</c>: the noisy copies, the change it measures, and that training
/// with it makes the pose shake less under camera noise.</summary>
public class SteadinessTests(SmallSynthData data) : IClassFixture<SmallSynthData>
{
    private static readonly ModelConfig s_config = new()
    {
        Backbone = "blazeface",
        InputSize = 64,
        Heads = [new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "pose" }],
    };

    [Fact]
    public void Noisy_copies_follow_the_batch_at_the_asked_sigma_and_the_same_seed_draws_the_same()
    {
        var steady = new Steadiness(s_config, Preprocessing.MinusOneToOne(64), 1, 4);
        using var scope = NewDisposeScope();
        Tensor images = rand([8, 3, 64, 64]) * 2 - 1;
        Tensor both = steady.WithNoisyCopies(images, 2, seed: 5, sigma: 2);

        Assert.Equal([10L, 3, 64, 64], both.shape);
        Assert.True(both.narrow(0, 0, 8).allclose(images, 0, 0), "the batch's own items changed");
        // Two grey levels in [-1, 1] input units: 2 / 255 / 0.5.
        double sd = (both.narrow(0, 8, 2) - images.narrow(0, 0, 2)).std().item<float>();
        Assert.InRange(sd, 0.95 * 4 / 255.0, 1.05 * 4 / 255.0);
        Assert.True(steady.WithNoisyCopies(images, 2, seed: 5, sigma: 2).allclose(both, 0, 0), "the same seed drew other noise");
        Assert.False(steady.WithNoisyCopies(images, 2, seed: 6, sigma: 2).allclose(both, 0, 0), "another seed drew the same noise");

        // Drawn sigmas lie between 0 and the largest.
        Tensor drawn = steady.WithNoisyCopies(images, 8, seed: 7);
        double[] sds = [.. Enumerable.Range(0, 8).Select(i => (double)(drawn[8 + i] - images[i]).std().item<float>() * 255 / 2)];
        Assert.All(sds, s => Assert.InRange(s, 0, 4.2));
        Assert.True(sds.Max() - sds.Min() > 1, $"sigmas not drawn per item: {string.Join(", ", sds)}");
    }

    [Fact]
    public void The_change_is_in_degrees_and_pixels_and_moves_only_the_noisy_copies()
    {
        var steady = new Steadiness(s_config, Preprocessing.MinusOneToOne(64), 1, 4);
        using var scope = NewDisposeScope();
        float[] Rotation3(double roll)
        {
            Span<double> r = stackalloc double[9];
            Rotation.FromEuler(10, -5, roll, r);
            return [.. r.ToArray().Select(v => (float)v)];
        }

        // Two items, then their copies: the first copy rolled 1 degree further, its centre 1.5 px
        // right (the input is 64 px, so 1.5 / 32 of [-1, 1]); the second copy the same as its item.
        Tensor pose = tensor([.. Rotation3(3), .. Rotation3(-7), .. Rotation3(4), .. Rotation3(-7)], [4, 3, 3]).requires_grad_(true);
        Tensor center = tensor(new float[] { 0.1f, 0.2f, -0.3f, 0.0f, 0.1f + (1.5f / 32), 0.2f, -0.3f, 0.0f }, [4, 2]).requires_grad_(true);
        (Tensor loss, double deg2, double px2) = steady.Change([center, pose], n: 2, k: 2);

        Assert.InRange(deg2, 0.5 * 0.99, 0.5 * 1.01); // (1 deg^2 + 0) / 2 items
        Assert.InRange(px2, (2.25 / 2) * 0.99, (2.25 / 2) * 1.01);
        // In the heads' own loss units: |R1 - R2|^2 = 4 (1 - cos 1 deg) over 2 items, and the
        // centre's mean squared difference in [-1, 1] over 2 coordinates and 2 items.
        double expected = (4 * (1 - Math.Cos(Math.PI / 180)) / 2) + (Math.Pow(1.5 / 32, 2) / 2 / 2);
        Assert.InRange(loss.item<float>(), expected * 0.99, expected * 1.01);
        loss.backward();
        Assert.Equal(0, pose.grad!.narrow(0, 0, 2).abs().sum().item<float>());
        Assert.Equal(0, center.grad!.narrow(0, 0, 2).abs().sum().item<float>());
        Assert.True(pose.grad!.narrow(0, 2, 1).abs().sum().item<float>() > 0, "no gradient reaches the noisy copy");
    }

    private const double WeightUnderTest = 100;

    [Fact]
    public void Training_with_the_term_makes_the_pose_shake_less_under_camera_noise()
    {
        (double Frozen, double Last) Shake(double weight)
        {
            Dataset d = Splitters.ByColumn(Loaders.Jsonl(Path.Combine(data.Set, LabelsFile.FileName)));
            torch.manual_seed(4);
            using var model = new MultiHeadNet(s_config);
            PretrainedBackbone.Load(model, Repo.BlazeFaceFront);
            var pre = model.Backbone.Preprocessing;
            var options = new TrainOptions { Epochs = 3, FreezeEpochs = 1, BatchSize = 16, Lr = 1e-2, LrMult = 10, Seed = 4, Threads = 2, Steady = weight };
            using var learner = new Learner(model, new Batcher([.. d.Train], s_config, pre, []), new Batcher([.. d.Valid], s_config, pre, []), options);
            learner.FineTune(options.FreezeEpochs, options.Epochs, options.Lr);
            var last = learner.State.History[^1].Metrics;
            Assert.True(last["yaw_mae"] < 40, $"yaw {last["yaw_mae"]:F1} deg with --steady {weight}: the pose did not learn");
            return (learner.State.History[0].Metrics["steady_deg"], last["steady_deg"]);
        }

        // A weight small enough to change nothing still measures the change.
        (double frozenWithout, double without) = Shake(1e-9);
        (double frozenWith, double with) = Shake(WeightUnderTest);
        Assert.True(with < 0.7 * without, $"pose change under noise of sigma {Steadiness.ValidSigma}: {with:F3} deg with the term, {without:F3} without");

        // The term starts when the body unfreezes: the frozen epoch trains the same either way.
        Assert.Equal(frozenWithout, frozenWith, 6);
    }
}
