import CKernels
import Glibc
import Testing

/// ferry_parallel_for runs every index of every job exactly once, with that job's function and
/// context, when jobs follow each other as fast as they can. (A stress test: the race it guards
/// against, a worker leaving one job late and taking an index of the next, needs a preemption in a
/// window of a few instructions and did not show in these runs before the fix either.)
@Suite struct ParallelForTests {
    /// One job's bookkeeping: how often each index ran, and which job the task believed it served.
    struct Job {
        var id: Int
        var runs: UnsafeMutablePointer<Int>
        var wrongJob: UnsafeMutablePointer<Int>
    }

    @Test func backToBackJobsRunEachIndexOnce() {
        let jobs = 20_000, maxCount = 7
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: jobs * maxCount)
        runs.initialize(repeating: 0, count: jobs * maxCount)
        let wrong = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        wrong.initialize(to: 0)
        defer {
            runs.deallocate()
            wrong.deallocate()
        }
        for j in 0..<jobs {
            var job = Job(id: j, runs: runs + j * maxCount, wrongJob: wrong)
            let count = 2 + j % (maxCount - 1)
            withUnsafeMutablePointer(to: &job) { ctx in
                ferry_parallel_for(
                    count, 2,
                    { raw, i in
                        let job = raw!.assumingMemoryBound(to: Job.self)
                        // Yielding now and then lets the other thread overtake, as a busy machine would.
                        if (job.pointee.id + i) % 3 == 0 { sched_yield() }
                        job.pointee.runs[i] += 1
                        if job.pointee.id < 0 { job.pointee.wrongJob.pointee += 1 }
                    }, ctx)
            }
            job.id = -1 // a late task reading this context now would count as wrong
            for i in 0..<count where runs[j * maxCount + i] != 1 {
                Issue.record("job \(j): index \(i) ran \(runs[j * maxCount + i]) times")
                return
            }
        }
        #expect(wrong.pointee == 0)
    }
}
