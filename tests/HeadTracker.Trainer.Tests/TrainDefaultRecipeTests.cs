using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;
using HeadTracking.Tests;
using Xunit.Abstractions;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// The default model's recipe (build/train-default.sh, what `./build.sh train-default` runs), at
/// its smoke scale: every step runs (synth, teacher-crops, train, export, eval on synthetic and
/// real held-out data), twice, and gives the same metrics; the shipped model is left alone.
/// </summary>
public sealed class TrainDefaultRecipeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("train-default");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Processes.Result Smoke(string work) =>
        Processes.Run("bash", [Path.Combine(Repo.Root, "build", "train-default.sh")], env: new Dictionary<string, string>
        {
            ["HEADTRACKER_TRAIN_SCALE"] = "smoke",
            ["HEADTRACKER_TRAIN_DIR"] = work,
            ["HEADTRACKER_CONFIGURATION"] = BuildOutput.Configuration,
        }, timeoutSeconds: 600);

    [Fact]
    public void The_recipe_runs_end_to_end_and_repeats_itself_for_its_seed()
    {
        string shipped = Path.Combine(Repo.Root, "models", "headtracker-default.onnx");
        byte[] before = SHA256.HashData(File.ReadAllBytes(shipped));

        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        Processes.Result first = Smoke(a);
        Assert.True(first.ExitCode == 0, first.All);
        Processes.Result second = Smoke(b);
        Assert.True(second.ExitCode == 0, second.All);
        output.WriteLine(first.StdOut);

        foreach (string file in new[] { "eval.json", "eval-real.json", "eval-by-yaw.json", "eval-by-face.json" })
        {
            Assert.True(File.Exists(Path.Combine(a, file)), $"{file} missing");
            Assert.Equal(Metrics(Path.Combine(a, file)), Metrics(Path.Combine(b, file)));
        }

        Dictionary<string, double> real = Metrics(Path.Combine(a, "eval-real.json"));
        Assert.Contains("metrics.box_iou_median", real.Keys);
        Assert.Contains("metrics.keypoint_px", real.Keys);
        Assert.Contains("metrics.yaw_mae", real.Keys); // the dense teacher fits a pose to every real face
        Assert.Contains("metrics.yaw_mae", Metrics(Path.Combine(a, "eval.json")).Keys);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(shipped)));
        Assert.Contains("models/ left as it was", first.StdOut, StringComparison.Ordinal);
    }

    /// <summary>The numbers of an eval JSON, by name (nested objects flattened with dots).</summary>
    private static Dictionary<string, double> Metrics(string path)
    {
        var result = new Dictionary<string, double>();
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        Walk(doc.RootElement, "");
        return result;

        void Walk(JsonElement e, string prefix)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (JsonProperty p in e.EnumerateObject())
                    {
                        Walk(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}");
                    }

                    break;
                case JsonValueKind.Number:
                    result[prefix] = e.GetDouble();
                    break;
            }
        }
    }
}
