using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace HeadTracking.Bench;

/// <summary>
/// Training steps per second of the default architecture (BlazeFace backbone; center, keypoints,
/// box, pose and mask heads) at batch 32 and 128x128, in TorchSharp and, in the same run and on
/// the same threads, in Debian's PyTorch 1.13 with the same network (peers/pytorch_train.py). The
/// step is the same on both sides: forward, a sum of MSE losses, backward, AdamW.
/// </summary>
internal static class TrainThroughput
{
    private const int Batch = 32;
    private const string Python = "/usr/bin/python3";

    public static int Run(int steps)
    {
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; TorchSharp {typeof(torch).Assembly.GetName().Version}");
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            (double ours, long parameters) = TorchSharpRate(threads, steps);
            string line = string.Format(CultureInfo.InvariantCulture, "train batch {0}, {1} thread(s): TorchSharp {2,6:F1} images/s ({3:N0} parameters)", Batch, threads, ours, parameters);
            (double? peer, string note) = PyTorchRate(threads, steps);
            Console.WriteLine(peer is double p
                ? line + string.Format(CultureInfo.InvariantCulture, "; PyTorch {0,6:F1} images/s ({1}); TorchSharp / PyTorch = {2:F2}", p, note, ours / p)
                : line + $"; PyTorch peer not run: {note}");
        }

        return 0;
    }

    private static (double Rate, long Parameters) TorchSharpRate(int threads, int steps)
    {
        torch.set_num_threads(threads);
        manual_seed(0);
        var config = new ModelConfig { Backbone = "blazeface", Heads = [.. new[] { "center", "keypoints", "box", "pose", "mask" }.Select(k => new HeadConfig { Kind = k })] };
        using var net = new MultiHeadNet(config);
        net.train();
        using var optimizer = optim.AdamW(net.parameters(), 1e-3);
        using Tensor x = randn(Batch, 3, 128, 128);
        Tensor[] targets;
        using (no_grad())
        {
            targets = [.. net.forward(x).Select(t => t.detach().uniform_(-1, 1))];
        }

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor[] outputs = net.forward(x);
            Tensor loss = outputs.Zip(targets, (o, t) => nn.functional.mse_loss(o, t)).Aggregate((a, b) => a + b);
            loss.backward();
            optimizer.step();
        }

        for (int i = 0; i < 3; i++)
        {
            Step();
        }

        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            Step();
        }

        double rate = Batch * steps / clock.Elapsed.TotalSeconds;
        foreach (Tensor t in targets)
        {
            t.Dispose();
        }

        return (rate, net.parameters().Sum(p => p.numel()));
    }

    private static (double? Rate, string Note) PyTorchRate(int threads, int steps)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peers", "pytorch_train.py");
        if (!File.Exists(Python))
        {
            return (null, $"{Python} not found (apt-get install python3 python3-torch)");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { script, Batch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using Process p = Process.Start(start)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            return (null, stderr.Contains("No module named 'torch'", StringComparison.Ordinal)
                ? "Debian's PyTorch is not installed (apt-get install python3-torch; ./build.sh bench installs it as root)"
                : $"{script} failed: {stderr.Trim().Split('\n').LastOrDefault()}");
        }

        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return (json.RootElement.GetProperty("images_per_second").GetDouble(),
            $"{json.RootElement.GetProperty("framework").GetString()}, {json.RootElement.GetProperty("parameters").GetInt64():N0} parameters");
    }
}
